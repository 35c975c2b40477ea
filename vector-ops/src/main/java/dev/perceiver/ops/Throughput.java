package dev.perceiver.ops;

import java.util.Arrays;

/** Timed runs of one workload: median and best rate in GFLOP/s over the runs taken. */
public record Throughput(double medianGflops, double bestGflops, int runs) {

    /** From the flop count of one run and the seconds each timed run took. */
    static Throughput of(double flopsPerRun, double[] seconds) {
        double[] rates = Arrays.stream(seconds).map(s -> flopsPerRun / s / 1e9).sorted().toArray();
        int n = rates.length;
        double median = n % 2 == 1 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
        return new Throughput(median, rates[n - 1], n);
    }
}
