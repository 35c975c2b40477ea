package dev.perceiver.cli;

import dev.perceiver.loader.json.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * bench --repeat J: the same measurement in J fresh JVMs, one after another, each started like this one (same java,
 * JVM options and class path). Which code the JIT produces is decided anew in every JVM, so one JVM's figures say
 * nothing about the next; the spread between them does.
 */
final class FreshJvms {
    /** The bench options a child gets as given here; --repeat itself and --json are the parent's. */
    private static final List<String> PASSED_ON = List.of("model", "runs", "warmup", "batch", "threads", "device",
            "kernels", "pollute", "testdata");

    private FreshJvms() {}

    static int run(Args args, int jvms, PrintStream out, PrintStream err) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
                "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "--json"));
        for (String name : PASSED_ON)
            if (args.has(name)) command.addAll(List.of("--" + name, args.get(name, null)));
        List<Map<?, ?>> results = new ArrayList<>();
        for (int j = 0; j < jvms; j++) {
            err.printf("fresh JVM %d of %d...%n", j + 1, jvms);
            results.add(child(command));
        }
        Map<String, Object> report = summary(results);
        if (args.has("json")) out.println(Json.write(report));
        else TextReport.print(report, out);
        return Main.OK;
    }

    private static Map<?, ?> child(List<String> command) throws IOException {
        Path log = Files.createTempFile("perceiver-bench-", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
            String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int code = p.waitFor();
            if (code != 0 || !json.startsWith("{")) {
                List<String> lines = Files.readAllLines(log);
                throw new IOException("a fresh bench JVM failed (exit " + code + "): "
                        + (lines.isEmpty() ? json : lines.getLast()));
            }
            return (Map<?, ?>) Json.parse(json);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a bench JVM");
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Each JVM's figures as lists in run order, and the spread: worst median over best, worst first pass over median. */
    static Map<String, Object> summary(List<Map<?, ?>> results) {
        Map<String, Object> report = new LinkedHashMap<>();
        Map<?, ?> first = results.getFirst();
        for (String k : List.of("model", "head", "backend", "threads", "batch", "runs", "warmup", "gflop"))
            if (first.containsKey(k)) report.put(k, first.get(k));
        report.put("jvms", results.size());
        double[] median = figure(results, "median_s"), firstPass = figure(results, "first_s"),
                load = figure(results, "load_s");
        double best = Double.MAX_VALUE, worst = 0, worstFirst = 0;
        double[] toFirst = new double[results.size()];
        for (int i = 0; i < median.length; i++) {
            best = Math.min(best, median[i]);
            worst = Math.max(worst, median[i]);
            worstFirst = Math.max(worstFirst, firstPass[i] / median[i]);
            toFirst[i] = load[i] + firstPass[i];
        }
        report.put("median_s", list(median));
        report.put("first_s", list(firstPass));
        report.put("load_s", list(load));
        report.put("best_median_s", BenchCommand.round(best));
        report.put("worst_median_s", BenchCommand.round(worst));
        report.put("spread", BenchCommand.round(worst / best));
        report.put("worst_first_over_median", BenchCommand.round(worstFirst));
        report.put("median_load_plus_first_s", BenchCommand.round(BenchCommand.percentile(toFirst, 50)));
        if (first.containsKey("gflop")) {
            double gflop = ((Number) first.get("gflop")).doubleValue();
            report.put("best_gflops", BenchCommand.round(gflop / best));
            report.put("worst_gflops", BenchCommand.round(gflop / worst));
        }
        if (first.containsKey("items_per_s_ratio"))
            report.put("items_per_s_ratio", list(figure(results, "items_per_s_ratio")));
        report.put("peak_rss_mb", list(figure(results, "peak_rss_mb")));
        for (String k : List.of("jdk", "cpu", "vector_bits", "kernels", "git_commit"))
            if (first.containsKey(k)) report.put(k, first.get(k));
        return report;
    }

    private static double[] figure(List<Map<?, ?>> results, String key) {
        return results.stream().mapToDouble(r -> r.get(key) instanceof Number n ? n.doubleValue() : Double.NaN).toArray();
    }

    private static List<Double> list(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double d : v) out.add(BenchCommand.round(d));
        return out;
    }
}
