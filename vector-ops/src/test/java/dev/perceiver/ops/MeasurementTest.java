package dev.perceiver.ops;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The measurement classes run and report sane numbers; speed itself is left to JMH and the bench command. */
class MeasurementTest {

    @Test
    void throughputIsTheMedianAndBestRateOfTheRuns() {
        Throughput t = Throughput.of(4e9, new double[] {2, 1, 4, 8});  // 2, 4, 1, 0.5 GFLOP/s
        assertThat(t.medianGflops()).isCloseTo(1.5, within(1e-12));
        assertThat(t.bestGflops()).isCloseTo(4, within(1e-12));
        assertThat(t.runs()).isEqualTo(4);
        assertThat(Throughput.of(3e9, new double[] {3, 1, 2}).medianGflops()).isCloseTo(1.5, within(1e-12));
    }

    @Test
    void gemmBenchTimesAtLeastThreeRunsWithinItsBudget() {
        long t0 = System.nanoTime();
        Throughput t = GemmBench.measure(VectorKernels.INSTANCE, Parallel.SERIAL, 7, 33, 3, Duration.ofMillis(100));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(t.runs()).isGreaterThanOrEqualTo(3);
        assertThat(t.medianGflops()).isPositive().isFinite().isLessThanOrEqualTo(t.bestGflops());
    }

    @Test
    void fmaPeakRunsOnEveryThread() {
        try (ExecutorParallel two = new ExecutorParallel(2)) {
            Throughput t = FmaPeak.measure(two, Duration.ofMillis(200));
            assertThat(t.runs()).isGreaterThanOrEqualTo(3);
            assertThat(t.medianGflops()).isPositive().isFinite().isLessThanOrEqualTo(t.bestGflops());
        }
    }

    @Test
    void microKernelNestAccumulatesEveryTileOfEverySlice() {
        MicroKernelNest nest = new MicroKernelNest(3, 2);
        nest.run();
        nest.run();  // C accumulates: twice each tile's product
        for (int s = 0; s < 2; s++)
            for (int t = 0; t < 3; t++)
                for (int i : new int[] {0, VectorGemm.MR - 1})
                    for (int j : new int[] {0, 5, VectorGemm.NR - 1})
                        assertThat((double) nest.c(s, t, i, j)).isCloseTo(2 * nest.dot(s, t, i, j), within(1e-3));
        assertThat(nest.flop()).isEqualTo(2.0 * 2 * 3 * VectorGemm.MR * VectorGemm.NR * VectorGemm.KC);
        assertThatThrownBy(() -> new MicroKernelNest(0, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
