package dev.perceiver.model;

import dev.perceiver.ops.Kernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One loaded model shared by many threads, as a server shares it: each thread, running its own input over and over
 * while the others run theirs, gets bit for bit what that input gives when it runs alone.
 */
class ConcurrentUseTest {
    private static final int THREADS = 8, ROUNDS = 2;

    static Stream<GoldenCase> cases() throws Exception {
        return GoldenCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eightThreadsSharingOneModelEachGetWhatTheirInputGivesAlone(GoldenCase c) throws Exception {
        try (Perceiver model = c.load(Kernels.best(), 2); Arena arena = Arena.ofShared()) {
            List<PerceiverInputs> inputs = new ArrayList<>();
            List<Map<String, float[]>> alone = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                inputs.add(c.inputs(t, arena));
                alone.add(GoldenCase.values(model.forward(inputs.get(t), Perceiver.Extra.values())));
            }
            // Distinct inputs must give distinct outputs, or agreement below would prove nothing.
            for (int t = 1; t < THREADS; t++)
                assertThat(alone.get(t).get("last_hidden_state")).as("variant %d", t)
                        .isNotEqualTo(alone.get(0).get("last_hidden_state"));

            CyclicBarrier start = new CyclicBarrier(THREADS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<List<Map<String, float[]>>>> results = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    PerceiverInputs in = inputs.get(t);
                    results.add(pool.submit(() -> {
                        start.await();
                        List<Map<String, float[]>> rounds = new ArrayList<>();
                        for (int r = 0; r < ROUNDS; r++)
                            rounds.add(GoldenCase.values(model.forward(in, Perceiver.Extra.values())));
                        return rounds;
                    }));
                }
                for (int t = 0; t < THREADS; t++) {
                    List<Map<String, float[]>> rounds = results.get(t).get(2, TimeUnit.MINUTES);
                    for (int r = 0; r < ROUNDS; r++)
                        GoldenCase.assertSameValues(alone.get(t), rounds.get(r), c.name() + " thread " + t + " round " + r);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
