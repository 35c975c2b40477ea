package dev.perceiver.cli;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.OfficialModels;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.model.SampleInputs;
import dev.perceiver.ops.FmaPeak;
import dev.perceiver.ops.GemmBench;
import dev.perceiver.ops.Throughput;
import dev.perceiver.runtime.Backend;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** perceiver bench: time forward passes of a model at its usual input size. */
final class BenchCommand implements Command {
    private static final List<String> STAGES = List.of("preprocess", "encoder_cross_attention", "latent_blocks",
            "decoder", "postprocess");

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "time a model (or an official config with random weights) and report GFLOP/s";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver bench --model NAME|DIR [--runs N] [--warmup N] [--batch B[,B...]] [--threads T] [--peak]
                                       [--repeat J] [--pollute N] [--trace FILE.json] [--json]

                Times forward passes on random inputs of the head's usual size: 224x224 images, train_size flow
                tiles, max_position_embeddings tokens; the multimodal model decodes one 1/128 chunk of its outputs,
                as the reference's example does. NAME is an official checkpoint's config with random weights (speed
                does not depend on the values): %s.
                Reports median and p90 seconds per pass and each timed pass's seconds, GFLOP per pass as the
                reference computes it, GFLOP/s, items per second, peak resident memory and the scratch memory a
                pass needs, the time of each stage, and what the figures depend on: JDK, CPU model, vector width,
                kernels and git commit.

                Options:
                  --model NAME|DIR  an official model name or a model folder
                  --runs N          timed passes (default 5)
                  --warmup N        untimed passes first, for the JIT (default 1)
                  --batch B[,B...]  items per pass (default 1); several sizes take turns pass by pass in this
                                    JVM, so that a slow spell of the machine or the JIT falls on all alike:
                                    the report's figures are the first size's, by_batch gives each size's and
                                    items_per_s_ratio the last size's items per second over the first's (peak
                                    memory is then the largest size's)
                  --threads T       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --peak            first measure the machine's FMA peak and a 1024^3 matrix product on the
                                    same threads (about 6 s), and report the model's fraction of that peak
                  --repeat J        run the whole measurement in J fresh JVMs, one after another, and report
                                    each JVM's median and first pass and the spread between them: how
                                    predictable the speed is, which one JVM cannot show
                  --pollute N       first run every tiny model in testdata/golden N times (a long-lived JVM
                                    that has seen other shapes and files), then load and time the model
                  --testdata DIR    where --pollute finds golden/ (default: found from the tool's jar)
                  --trace FILE.json after the timed passes, trace one more and write it as a Chrome trace-event
                                    file (open it in ui.perfetto.dev or chrome://tracing): the pass, its stages,
                                    latent blocks, layers and kernel calls (linear, layer_norm, attention, conv2d)
                                    with their sizes, one track per thread
                  --json            one JSON object instead of text
                """.formatted(String.join(", ", OfficialModels.names()));
    }

    @Override
    public Set<String> flags() {
        return Set.of("json", "peak");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("runs", "warmup", "batch", "repeat", "pollute", "testdata", "trace");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        ModelSource source = ModelSource.of(args);
        String model = source.name();
        int runs = args.getInt("runs", 5, 1), warmup = args.getInt("warmup", 1, 0);
        int[] batches = batchSizes(args.get("batch", "1"));
        if (args.has("repeat")) {
            if (args.has("trace")) throw new UsageException("--trace traces a pass in this JVM; it cannot go with --repeat");
            return FreshJvms.run(args, args.getInt("repeat", 1, 1), out, err);
        }
        Path traceFile = args.has("trace") ? PathChecks.output("--trace", args.get("trace", null), false) : null;
        Perceiver.Options options = ModelArgs.options(args);
        Backend backend = options.openBackend();
        Map<String, Object> report = new LinkedHashMap<>();
        double peak = args.has("peak") ? measurePeak(backend, report, err) : 0;
        if (args.has("pollute")) report.put("pollute_s", round(pollute(args, backend, args.getInt("pollute", 1, 0), err)));
        long t0 = System.nanoTime();
        Perceiver perceiver = source.open(backend);
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        try (Perceiver m = perceiver; Arena arena = Arena.ofConfined()) {
            PerceiverConfig config = m.config();
            List<PerceiverInputs> inputs = new ArrayList<>();
            List<Timing> timings = new ArrayList<>();
            for (int batch : batches) {
                inputs.add(SampleInputs.of(m.head(), config, batch, arena, 42));
                timings.add(new Timing(batch, runs));
            }
            Map<String, Object> machine = MachineInfo.describe(m.backend());
            Progress progress = new Progress(err, "bench " + model,
                    (warmup + runs) * batches.length + (traceFile == null ? 0 : 1), args.has("quiet"));
            for (int i = 0; i < warmup + runs; i++)
                for (int b = 0; b < batches.length; b++) {
                    double dt = timings.get(b).pass(m, inputs.get(b), i, warmup);
                    progress.step(String.format(batches.length == 1 ? "%.3f s" : "%.3f s (batch %d)", dt, batches[b]));
                }
            if (traceFile != null) {
                // One more pass, traced: the timed ones run without the (small) cost of recording spans.
                PerceiverOutput traced = m.forward(inputs.getFirst(), Perceiver.Extra.TRACE);
                Map<String, Object> about = new LinkedHashMap<>();
                about.put("model", model);
                about.put("head", m.head().architecture());
                about.put("batch", batches[0]);
                about.put("threads", m.backend().parallel().threads());
                about.putAll(machine);
                ChromeTrace.write(traced.trace(), about, traceFile);
                progress.step("traced");
            }
            Timing main = timings.getFirst();
            report.put("model", model);
            report.put("head", m.head().architecture());
            report.put("backend", m.backend().name());
            report.put("threads", m.backend().parallel().threads());
            report.put("batch", batches[0]);
            report.put("runs", runs);
            report.put("warmup", warmup);
            report.put("load_s", round(loadSeconds));
            report.put("first_s", round(main.first));
            report.putAll(main.figures(peak));
            report.put("peak_rss_mb", round(peakRssMb()));
            report.put("scratch_mb", round(m.scratchBytes() / 1048576.0));
            Map<String, Object> stageReport = new LinkedHashMap<>(), firstStageReport = new LinkedHashMap<>();
            for (String stage : STAGES) {
                double[] v = main.stages.stream().mapToDouble(st -> st.getOrDefault(stage, 0L) / 1e9).toArray();
                stageReport.put(stage, round(percentile(v, 50)));
                firstStageReport.put(stage, round(main.firstStages.getOrDefault(stage, 0L) / 1e9));
            }
            report.put("stages_s", stageReport);
            report.put("first_stages_s", firstStageReport);
            if (batches.length > 1) {
                Map<String, Object> byBatch = new LinkedHashMap<>();
                for (Timing t : timings) byBatch.put(Integer.toString(t.batch), t.figures(peak));
                report.put("by_batch", byBatch);
                report.put("items_per_s_ratio", round(timings.getLast().itemsPerSecond() / main.itemsPerSecond()));
            }
            report.putAll(machine);
            if (traceFile != null) report.put("trace", traceFile.toString());
        }
        if (args.has("json")) out.println(Json.write(report));
        else TextReport.print(report, out);
        return Main.OK;
    }

    /** --batch's sizes: whole numbers of at least 1, comma-separated, each once. */
    static int[] batchSizes(String value) {
        String[] parts = value.split(",", -1);
        int[] sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                sizes[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new UsageException("--batch takes item counts separated by commas, got '" + value + "'");
            }
            if (sizes[i] < 1) throw new UsageException("--batch sizes must be at least 1, got " + sizes[i]);
            for (int j = 0; j < i; j++)
                if (sizes[j] == sizes[i]) throw new UsageException("--batch lists " + sizes[i] + " twice");
        }
        return sizes;
    }

    /** One batch size's passes: the first pass, then the timed ones after the warm-up. */
    private static final class Timing {
        final int batch;
        final double[] seconds;
        final List<Map<String, Long>> stages = new ArrayList<>();
        double first;
        Map<String, Long> firstStages = Map.of();
        long flops;

        Timing(int batch, int runs) {
            this.batch = batch;
            seconds = new double[runs];
        }

        /** Runs pass i (of warmup untimed ones first) and returns its seconds. */
        double pass(Perceiver m, PerceiverInputs inputs, int i, int warmup) {
            long s = System.nanoTime();
            PerceiverOutput o = m.forward(inputs);
            double dt = (System.nanoTime() - s) / 1e9;
            if (i == 0) {
                first = dt;
                firstStages = o.stageNanos();
            }
            flops = o.flops();
            if (i >= warmup) {
                seconds[i - warmup] = dt;
                stages.add(o.stageNanos());
            }
            return dt;
        }

        double itemsPerSecond() {
            return batch / percentile(seconds, 50);
        }

        /** Median, p90, min and each timed pass's seconds, GFLOP and rates (fraction of the peak where measured). */
        Map<String, Object> figures(double peak) {
            Map<String, Object> f = new LinkedHashMap<>();
            double median = percentile(seconds, 50), gflop = flops / 1e9;
            f.put("median_s", round(median));
            f.put("p90_s", round(percentile(seconds, 90)));
            f.put("min_s", round(Arrays.stream(seconds).min().orElse(0)));
            f.put("runs_s", Arrays.stream(seconds).map(v -> Math.round(v * 1e6) / 1e6).boxed().toList());
            f.put("gflop", round(gflop));
            f.put("gflops", round(gflop / median));
            if (peak > 0) f.put("fraction_of_peak", round(gflop / median / peak));
            f.put("items_per_s", round(itemsPerSecond()));
            return f;
        }
    }

    /**
     * The CPU threads' FMA peak and a 1024³ product on the backend's kernels, into the report; returns the peak in
     * GFLOP/s. Both run before the model loads, on an otherwise idle process.
     */
    private static double measurePeak(Backend backend, Map<String, Object> report, PrintStream err) {
        err.println("measuring the FMA peak and a 1024^3 matrix product on " + backend.parallel().threads()
                + " threads...");
        Throughput peak = FmaPeak.measure(backend.parallel(), Duration.ofSeconds(3));
        Throughput gemm = GemmBench.measure(backend.kernels(), backend.parallel(), 1024, 1024, 1024, Duration.ofSeconds(3));
        report.put("fma_peak_gflops", round(peak.bestGflops()));
        report.put("sgemm_1024_gflops", round(gemm.medianGflops()));
        report.put("sgemm_fraction_of_peak", round(gemm.medianGflops() / peak.bestGflops()));
        return peak.bestGflops();
    }

    /**
     * Runs every tiny model in testdata/golden passes times on random inputs of its own shape, through the backend's
     * kernels and threads: what a long-lived server JVM has done before it meets the model being timed. Returns the
     * seconds it took.
     */
    private static double pollute(Args args, Backend backend, int passes, PrintStream err) throws IOException {
        err.println("running the tiny models " + passes + " times each first...");
        long t0 = System.nanoTime();
        SampleInputs.runEach(DemoCommand.testdata(args).resolve("golden"), backend, passes);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Nearest-rank percentile. */
    static double percentile(double[] values, double p) {
        double[] v = values.clone();
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100 * v.length);
        return v[Math.clamp(rank - 1, 0, v.length - 1)];
    }

    static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /** The process's peak resident set (VmHWM) in MB, or -1 where /proc is not available. */
    static double peakRssMb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return -1;
        for (String line : Files.readAllLines(status))
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
        return -1;
    }
}
