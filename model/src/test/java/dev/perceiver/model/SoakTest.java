package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.TestMemory;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Long runs, on request only ({@code -Dperceiver.soak=true}, whose profile fixes the heap so the resident set moves
 * only with native memory): many inferences on one model, and many models created and closed, must leave the
 * resident set (VmRSS) flat once warm. Each sample is taken after a garbage collection and glibc's malloc_trim, so
 * it counts what is still allocated (pass outputs live in memory the collector frees; glibc keeps freed memory for
 * reuse), not garbage not yet collected. The figures are printed: runs, resident set at the end of warm-up and at
 * the end, the trend per 1,000 runs and how far the second half rose above the first.
 */
@EnabledIfSystemProperty(named = "perceiver.soak", matches = "true")
class SoakTest {
    private static final int INFERENCES = Integer.getInteger("perceiver.soak.inferences", 2000);
    /** Inferences of an official-size model: each takes seconds, so far fewer. */
    private static final int OFFICIAL_INFERENCES = Integer.getInteger("perceiver.soak.official.inferences", 20);
    private static final int CYCLES = 200, OFFICIAL_CYCLES = 10;
    private static final long MIB = 1 << 20;

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(TestMemory.residentSetIsReadable(), "needs Linux's /proc/self/status for the resident set");
    }

    static Stream<GoldenCase> cases() throws Exception {
        return GoldenCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void manyInferencesOfAGoldenModelKeepTheResidentSetFlat(GoldenCase c) {
        try (Perceiver model = c.load(Kernels.best(), 2); Arena arena = Arena.ofShared()) {
            List<PerceiverInputs> inputs = new ArrayList<>();
            for (int v = 0; v < 8; v++) inputs.add(c.inputs(v, arena));
            // Every tenth pass asks for every extra output too, as a debugging client would.
            Samples s = soak(c.name(), INFERENCES, i -> model.forward(inputs.get(i % inputs.size()),
                    i % 10 == 0 ? Perceiver.Extra.values() : new Perceiver.Extra[0]));
            assertThat(s.secondHalfRise()).as("%s: rise of the second half over the first", c.name()).isLessThan(16 * MIB);
        }
    }

    @Test
    void manyInferencesOfAnOfficialSizeModelKeepTheResidentSetFlat() {
        PerceiverConfig config = OfficialModels.config("language-mlm");
        try (Perceiver model = Perceiver.random(config, new CpuBackend(Kernels.best(), ThreadPool.ofAvailableProcessors()),
                true);
             Arena arena = Arena.ofShared()) {
            PerceiverInputs in = SampleInputs.of(model.head(), config, 1, arena, 7);
            Samples s = soak("language-mlm (random weights, 201M parameters)", OFFICIAL_INFERENCES, i -> model.forward(in));
            // Scratch reaches its high water in the first pass; after that nothing may accumulate.
            assertThat(s.secondHalfRise()).as("rise of the second half over the first").isLessThan(16 * MIB);
        }
    }

    @Test
    void creatingAndClosingGoldenModelsReturnsTheirMemory() {
        GoldenCase c = GoldenCase.of("image_learned");
        try (Arena arena = Arena.ofShared()) {
            PerceiverInputs in = c.inputs(0, arena);
            Samples s = soak("create, run, close image_learned", CYCLES, i -> {
                try (Perceiver model = c.load(Kernels.best(), 2)) {
                    model.forward(in);
                }
            });
            assertThat(s.secondHalfRise()).as("rise of the second half over the first").isLessThan(16 * MIB);
        }
    }

    @Test
    void creatingAndClosingOfficialSizeModelsReturnsTheirMemory() {
        PerceiverConfig config = OfficialModels.config("vision-conv");
        long start = retainedResidentBytes(), open = 0, closed = 0, firstClosed = 0;
        for (int i = 0; i < OFFICIAL_CYCLES; i++) {
            try (Perceiver model = Perceiver.random(config, new CpuBackend(Kernels.best(), new ThreadPool(2)), true)) {
                open = Math.max(open, retainedResidentBytes());
            }
            closed = retainedResidentBytes();
            if (i == 0) firstClosed = closed;
        }
        System.out.printf("create and close vision-conv (random weights, 49M parameters) %d times: resident %d MiB "
                        + "before, at most %d MiB with the model open, %d MiB after the first close, %d MiB after the last%n",
                OFFICIAL_CYCLES, start / MIB, open / MIB, firstClosed / MIB, closed / MIB);
        assertThat(open - start).as("the open model's packed weights are resident").isGreaterThan(150 * MIB);
        assertThat(closed - start).as("left resident after closing").isLessThan((open - start) / 4);
        assertThat(closed - firstClosed).as("growth over the cycles").isLessThan(16 * MIB);
    }

    /**
     * Resident set samples after warm-up (a tenth of the runs), one per twentieth of the runs. A leak shows as the
     * second half of the run rising above the first half's peak; sampling noise (code cache, collector state) is a
     * few tens of MiB either way, so that is asserted with a margin, and the trend is reported by least squares.
     */
    record Samples(int warmUp, List<long[]> points) {
        long warm() {
            return points.getFirst()[1];
        }

        long end() {
            return points.getLast()[1];
        }

        /** How far the second half's peak exceeds the first half's. */
        long secondHalfRise() {
            int half = points.size() / 2;
            return peak(points.subList(half, points.size())) - peak(points.subList(0, half));
        }

        private static long peak(List<long[]> ps) {
            return ps.stream().mapToLong(p -> p[1]).max().orElseThrow();
        }

        /** Least-squares slope, MiB per 1,000 runs. */
        double trendPerThousand() {
            double mx = points.stream().mapToLong(p -> p[0]).average().orElseThrow();
            double my = points.stream().mapToLong(p -> p[1]).average().orElseThrow();
            double sxy = 0, sxx = 0;
            for (long[] p : points) {
                sxy += (p[0] - mx) * (p[1] - my);
                sxx += (p[0] - mx) * (p[0] - mx);
            }
            return sxx == 0 ? 0 : sxy / sxx * 1000 / MIB;
        }
    }

    private static Samples soak(String what, int runs, IntConsumer run) {
        int warmUp = Math.max(1, runs / 10), every = Math.max(1, runs / 20);
        List<long[]> points = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            run.accept(i);
            if (i + 1 == warmUp || (i + 1 > warmUp && ((i + 1) % every == 0 || i + 1 == runs)))
                points.add(new long[] {i + 1, retainedResidentBytes()});
        }
        Samples s = new Samples(warmUp, points);
        System.out.printf("%s: %d runs in %.0f s; resident %d MiB after %d warm-up runs, %d MiB at the end (range %d "
                        + "to %d); trend %+.2f MiB per 1,000 runs; second half above the first by %d MiB%n", what, runs,
                (System.nanoTime() - start) / 1e9, s.warm() / MIB, warmUp, s.end() / MIB,
                points.stream().mapToLong(p -> p[1]).min().orElseThrow() / MIB,
                points.stream().mapToLong(p -> p[1]).max().orElseThrow() / MIB, s.trendPerThousand(),
                s.secondHalfRise() / MIB);
        return s;
    }

    /**
     * The resident set once the collector has freed what is unreachable (pass outputs, cached tables) and glibc has
     * returned the memory it keeps for reuse: what is still allocated.
     */
    private static long retainedResidentBytes() {
        System.gc();
        try {
            Thread.sleep(50); // Cleaners free unreachable arenas' memory on their own thread.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        TestMemory.trimMalloc();
        return TestMemory.residentBytes();
    }
}
