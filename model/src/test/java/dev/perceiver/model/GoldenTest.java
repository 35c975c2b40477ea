package dev.perceiver.model;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every head against the reference: each output tensor of each golden case (logits, loss, hidden states, attention
 * maps, the preprocessed input) must agree within 1e-4 · max|want|.
 */
class GoldenTest {

    static Stream<GoldenCase> cases() throws Exception {
        return GoldenCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyOutputMatchesTheReference(GoldenCase c) {
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            PerceiverOutput out = model.forward(NamedInputs.read(golden, arena), Perceiver.Extra.values());
            Map<String, Tensor> got = out.named();
            List<GoldenCase.Agreement> results = new ArrayList<>();
            TreeSet<String> expected = new TreeSet<>();
            for (String name : golden.names()) {
                if (isInput(name)) continue;
                expected.add(name);
                assertThat(got).as("output %s of %s", name, c.name()).containsKey(name);
                results.add(GoldenCase.compare(name, got.get(name), golden.floats(name, arena)));
            }
            results.forEach(r -> System.out.println(c.name() + ": " + r));
            assertThat(results).as("agreement with the reference").allMatch(GoldenCase.Agreement::ok);
            assertThat(expected).as("golden outputs").isNotEmpty();
        }
    }

    static boolean isInput(String name) {
        return name.equals("inputs") || name.startsWith("inputs.") || name.equals("attention_mask")
                || name.startsWith("subsampled_output_points.") || name.equals("labels");
    }

    /**
     * As a user loads it: Perceiver.load on the folder, which tells the weights' format itself (before it did so by
     * name and structure, sequence_classification's model.safetensors was taken for a legacy pickle while the
     * golden tests, opening model.safetensors directly, passed).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyGoldenFolderLoadsThroughPerceiverLoad(GoldenCase c) {
        try (Perceiver model = Perceiver.load(c.dir(), new Perceiver.Options(1, "cpu")); Checkpoint golden = c.golden();
             Arena arena = Arena.ofConfined()) {
            assertThat(model.config().architecture()).isEqualTo(c.config().architecture());
            Map<String, Tensor> got = model.forward(NamedInputs.read(golden, arena)).named();
            String logits = got.containsKey("logits") ? "logits" : got.keySet().stream().filter(n -> n.startsWith("logits."))
                    .findFirst().orElseThrow();
            assertThat(GoldenCase.compare(logits, got.get(logits), golden.floats(logits, arena)).ok()).as(c.name()).isTrue();
        }
    }
}
