package dev.perceiver.spark;

import org.apache.spark.SparkConf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Engine threads for a model shared by an executor's tasks. Each running task computes on its own thread and borrows
 * helpers from the model's pool; with C executor cores and spark.task.cpus = k, up to C/k tasks run at once, so a
 * pool of C - C/k + 1 threads (C - C/k helpers) keeps tasks x threads at C: never more threads than cores, and a
 * task averages k threads when every slot is busy.
 */
final class EngineThreads {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)(?:,\\s*\\d+)?]");

    private EngineThreads() {}

    static int poolThreads(SparkConf conf, int taskCpus) {
        int cores = executorCores(conf);
        int slots = Math.max(1, cores / Math.max(1, taskCpus));
        return Math.max(1, cores - slots + 1);
    }

    /** spark.executor.cores, else local[N]'s N, else every processor (standalone executors take a worker's cores). */
    static int executorCores(SparkConf conf) {
        if (conf.contains("spark.executor.cores")) return conf.getInt("spark.executor.cores", 1);
        Matcher m = LOCAL.matcher(conf.get("spark.master", ""));
        if (m.matches() && !m.group(1).equals("*")) return Integer.parseInt(m.group(1));
        if (conf.get("spark.master", "").equals("local")) return 1;
        return Runtime.getRuntime().availableProcessors();
    }
}
