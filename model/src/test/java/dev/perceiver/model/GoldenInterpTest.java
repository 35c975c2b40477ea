package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * interpolate_pos_encoding against transformers 4.42's PerceiverForImageClassificationLearned: the cases of
 * testdata/golden_interp (from shared/golden_interp), inputs of other sizes than the config's image_size (and one of
 * that size, which the flag still resamples). position_embeddings, the resized table, is compared first: it is the
 * one new computation; then every output, each within 1e-4 · max|want|.
 */
class GoldenInterpTest {

    static Path root() {
        return Path.of(System.getProperty("perceiver.testdata", "../testdata")).resolve("golden_interp");
    }

    static Stream<GoldenCase> cases() throws Exception {
        try (Stream<Path> dirs = Files.list(root())) {
            List<GoldenCase> cases = new ArrayList<>();
            for (Path d : dirs.sorted().toList())
                if (Files.exists(d.resolve("config.json"))) cases.add(new GoldenCase(d.getFileName().toString(), d));
            assertThat(cases).hasSizeGreaterThanOrEqualTo(4);
            return cases.stream();
        }
    }

    static GoldenCase of(String name) {
        return new GoldenCase(name, root().resolve(name));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void positionTableThenEveryOutputMatchTheReference(GoldenCase c) {
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            assertThat(golden.metadata()).containsEntry("interpolate_pos_encoding", "true");
            assertThat(model.interpolatesPositions()).isTrue();
            PerceiverInputs in = NamedInputs.read(golden, arena).interpolatePosEncoding(true);
            PerceiverOutput out = model.forward(in, Perceiver.Extra.values());
            Map<String, Tensor> got = out.named();
            GoldenCase.Agreement table = GoldenCase.compare("position_embeddings", got.get("position_embeddings"),
                    golden.floats("position_embeddings", arena));
            System.out.println(c.name() + ": " + table);
            assertThat(table.ok()).as("the interpolated position table of %s: %s", c.name(), table).isTrue();
            List<GoldenCase.Agreement> results = new ArrayList<>();
            for (String name : golden.names()) {
                if (GoldenTest.isInput(name) || name.equals("position_embeddings")) continue;
                assertThat(got).as("output %s of %s", name, c.name()).containsKey(name);
                results.add(GoldenCase.compare(name, got.get(name), golden.floats(name, arena)));
            }
            results.forEach(r -> System.out.println(c.name() + ": " + r));
            assertThat(results).as("agreement with the reference").allMatch(GoldenCase.Agreement::ok);
            assertThat(results.stream().map(GoldenCase.Agreement::name))
                    .contains("logits", "hidden_states.0", "attentions.0", "cross_attentions.0", "cross_attentions.1");
        }
    }

    static Stream<Path> anySizeCases() throws Exception {
        try (Stream<Path> files = Files.list(root().resolve("any_size"))) {
            return files.filter(f -> f.toString().endsWith(".safetensors")).sorted().toList().stream();
        }
    }

    /**
     * The Fourier and conv classifiers need no flag: their positions are computed on the input's grid, so they run
     * at any size the reference (4.37) runs: odd sizes through the conv head's 7x7/2 conv and 3x3/2 max pool (37x29,
     * and 5x6, about the least it takes), the Fourier head down to 1x1. Every output within 1e-4 · max|want|.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("anySizeCases")
    void fourierAndConvHeadsRunAtOtherSizesWithoutTheFlag(Path file) {
        try (Checkpoint golden = dev.perceiver.loader.SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            GoldenCase c = GoldenCase.of(golden.metadata().get("model"));
            try (Perceiver model = c.load(Kernels.best(), 2)) {
                Map<String, Tensor> got = model.forward(NamedInputs.read(golden, arena), Perceiver.Extra.values()).named();
                List<GoldenCase.Agreement> results = new ArrayList<>();
                for (String name : golden.names()) {
                    if (GoldenTest.isInput(name)) continue;
                    assertThat(got).as("output %s of %s", name, file).containsKey(name);
                    results.add(GoldenCase.compare(name, got.get(name), golden.floats(name, arena)));
                }
                results.forEach(r -> System.out.println(file.getFileName() + ": " + r));
                assertThat(results).as("agreement with the reference").allMatch(GoldenCase.Agreement::ok)
                        .extracting(GoldenCase.Agreement::name).contains("logits", "preprocessed");
            }
        }
    }

    /** 4x4 pixels convolve (7x7, stride 2, padding 3) to 2x2, less than the 3x3 max pool needs: refused by name. */
    @Test
    void theConvHeadRefusesImagesTooSmallForItsPool() {
        try (Perceiver model = GoldenCase.of("image_conv").load(Kernels.best(), 1); Arena arena = Arena.ofConfined()) {
            for (int[] hw : new int[][] {{4, 4}, {4, 9}, {30, 3}}) {
                Tensor x = Tensor.zeros(arena, 1, 3, hw[0], hw[1]);
                assertThatThrownBy(() -> model.forward(PerceiverInputs.of(x))).isInstanceOf(InvalidInputException.class)
                        .hasMessageContaining(hw[0] + "x" + hw[1]).hasMessageContaining("at least 5x5");
            }
            Tensor smallest = Tensor.zeros(arena, 1, 3, 5, 5);
            assertThat(model.forward(PerceiverInputs.of(smallest)).logitsTensor().dim(1)).isEqualTo(10);
        }
    }

    /**
     * The +0.1 trap: at the config's own size, the flag-off pass (the trained table as is) differs from the golden
     * flag-on logits by far more than the tolerance, and a model that ran one then the other (both cached per grid)
     * still gives each its own result.
     */
    @Test
    void atTheTrainingSizeTheFlagStillResamplesAndCachesApart() {
        GoldenCase c = of("learned_16_at_16x16");
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            Tensor want = golden.floats("logits", arena);
            for (int round = 0; round < 2; round++) {
                PerceiverOutput off = model.forward(NamedInputs.read(golden, arena), Perceiver.Extra.POSITION_EMBEDDINGS);
                PerceiverOutput on = model.forward(NamedInputs.read(golden, arena).interpolatePosEncoding(true));
                assertThat(GoldenCase.compare("logits", on.logitsTensor(), want).ok()).as("flag on, round %d", round).isTrue();
                GoldenCase.Agreement offAgreement = GoldenCase.compare("logits", off.logitsTensor(), want);
                assertThat(offAgreement.relative()).as("flag off, round %d", round).isGreaterThan(1e-3);
                // Flag off, the table returned is the trained one, unchanged.
                assertThat(off.positionEmbeddings().toArray()).containsExactly(trainedTable(c, arena));
            }
        }
    }

    private static float[] trainedTable(GoldenCase c, Arena arena) {
        try (Checkpoint weights = dev.perceiver.loader.Checkpoints.open(c.dir())) {
            return weights.floats("perceiver.input_preprocessor.position_embeddings.position_embeddings", arena).toArray();
        }
    }

    /** Without the flag the learned head takes only image_size² positions, and says the flag would help. */
    @Test
    void anotherSizeWithoutTheFlagIsRefusedNamingTheFlag() {
        GoldenCase c = of("learned_32_to_48x40");
        try (Perceiver model = c.load(Kernels.best(), 1); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> model.forward(NamedInputs.read(golden, arena)))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("1920 positions")
                    .hasMessageContaining("1024").hasMessageContaining("interpolate_pos_encoding");
        }
    }

    /** One pass per batch item gives the batch's results: the resized table is shared by every item. */
    @Test
    void itemsAloneMatchTheBatch() {
        GoldenCase c = of("learned_12_to_20x9");
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            Tensor inputs = golden.floats("inputs", arena), want = golden.floats("logits", arena);
            for (int b = 0; b < inputs.dim(0); b++) {
                Tensor one = inputs.slice(0, b, b + 1).copy(arena);
                Tensor logits = model.forward(PerceiverInputs.of(one).interpolatePosEncoding(true)).logitsTensor();
                assertThat(GoldenCase.compare("logits[" + b + "]", logits, want.slice(0, b, b + 1).copy(arena)).ok()).isTrue();
            }
        }
    }

    /**
     * The heads without a trainable image table refuse the flag in one line naming it, as the reference's forward
     * raises TypeError for them; the Fourier and conv classifiers need no flag for other sizes.
     */
    @Test
    void headsWithoutATrainableImageTableRefuseTheFlag() {
        try (Arena arena = Arena.ofConfined()) {
            for (String name : List.of("image_fourier", "image_conv", "optical_flow", "masked_lm")) {
                GoldenCase c = GoldenCase.of(name);
                try (Perceiver model = c.load(Kernels.best(), 1)) {
                    assertThat(model.interpolatesPositions()).as(name).isFalse();
                    PerceiverInputs in = c.inputs(0, arena).interpolatePosEncoding(true);
                    assertThatThrownBy(() -> model.forward(in)).as(name).isInstanceOf(InvalidInputException.class)
                            .hasMessageStartingWith("interpolate_pos_encoding: " + model.head().architecture())
                            .hasMessageContaining("PerceiverForImageClassificationLearned")
                            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
                }
            }
        }
    }
}
