package dev.perceiver.model;

import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.DType;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.TestFiles;
import dev.perceiver.loader.TestMemory;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a server must survive, through the public API. Defined results: a NaN or an infinity in an input makes its
 * own batch item's outputs NaN, as in the reference, and leaves the other items bit for bit as they are alone.
 * Clear refusals, naming the input: an empty batch or any dimension of size 0, an image too small to crop, a file
 * whose header claims more data than it holds, an input beyond 32-bit indexing, and one whose working buffers would
 * exceed the machine's memory, each before anything of its claimed size is allocated.
 */
class HostileInputsTest {
    private static final float[] NON_FINITE = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"image_conv", "image_fourier", "image_learned"})
    void aNonFinitePixelMakesItsOwnItemNaNAndLeavesTheOtherItemAsItIsAlone(String name) {
        GoldenCase c = GoldenCase.of(name);
        try (Perceiver model = c.load(Kernels.best(), 2); Arena arena = Arena.ofConfined()) {
            Tensor clean = c.inputs(0, arena).inputs();
            float[] secondAlone = model.forward(PerceiverInputs.of(clean.slice(0, 1, 2).copy(arena))).logitsTensor().toArray();
            for (float bad : NON_FINITE) {
                Tensor x = clean.copy(arena);
                x.set(bad, 0, 1, 2, 3);
                Tensor logits = model.forward(PerceiverInputs.of(x)).logitsTensor();
                assertThat(logits.slice(0, 0, 1).toArray()).as("item with a %s pixel", bad).containsOnly(Float.NaN);
                assertThat(logits.slice(0, 1, 2).toArray()).as("the other item").containsExactly(secondAlone);
            }
        }
    }

    @Test
    void aNonFiniteValueInAnyOtherKindOfInputMakesItsItemNaN() {
        try (Perceiver flowModel = GoldenCase.of("optical_flow").load(Kernels.best(), 2);
             Perceiver multimodalModel = GoldenCase.of("multimodal").load(Kernels.best(), 2);
             Arena arena = Arena.ofConfined()) {
            for (float bad : NON_FINITE) {
                PerceiverInputs flow = GoldenCase.of("optical_flow").inputs(0, arena);
                flow.inputs().set(bad, 0, 1, 13, 5, 7);
                assertThat(allLogits(flowModel, flow)).as("flow with a %s patch value", bad).containsOnly(Float.NaN);

                PerceiverInputs multimodal = GoldenCase.of("multimodal").inputs(0, arena);
                multimodal.modalities().get("audio").set(bad, 0, 5, 0);
                assertThat(allLogits(multimodalModel, multimodal)).as("every modality's output, %s audio", bad)
                        .containsOnly(Float.NaN);
            }
        }
    }

    /**
     * A mask value m enters the attention bias as (1 - m) * finfo.min, as in the reference: NaN and +inf give a NaN
     * or +inf score, so that item's outputs are NaN; -inf gives a bias of -inf, which masks the token like 0 does.
     */
    @Test
    void aNonFiniteMaskValueActsThroughTheReferencesBias() {
        try (Perceiver model = GoldenCase.of("sequence_classification").load(Kernels.best(), 2);
             Arena arena = Arena.ofConfined()) {
            PerceiverInputs zero = GoldenCase.of("sequence_classification").inputs(0, arena);
            zero.attentionMask().set(0f, 0, 3);
            float[] masked = allLogits(model, zero);
            int half = masked.length / 2;
            for (float bad : NON_FINITE) {
                PerceiverInputs text = GoldenCase.of("sequence_classification").inputs(0, arena);
                text.attentionMask().set(bad, 0, 3);
                float[] logits = allLogits(model, text);
                if (bad == Float.NEGATIVE_INFINITY)
                    assertThat(Arrays.copyOfRange(logits, 0, half)).as("item with a -inf mask value")
                            .containsExactly(Arrays.copyOfRange(masked, 0, half));
                else
                    assertThat(Arrays.copyOfRange(logits, 0, half)).as("item with a %s mask value", bad).containsOnly(Float.NaN);
                assertThat(Arrays.copyOfRange(logits, half, logits.length)).as("the other item, %s", bad)
                        .containsExactly(Arrays.copyOfRange(masked, half, masked.length));
            }
        }
    }

    /** Every logit of a pass, modalities in order. */
    private static float[] allLogits(Perceiver model, PerceiverInputs in) {
        return model.forward(in).logits().values().stream().map(Tensor::toArray).reduce(new float[0], HostileInputsTest::concat);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void emptyBatchesAndZeroSizedInputsAreRefusedNamingTheInput() {
        try (Arena arena = Arena.ofConfined()) {
            assertRefused("image_conv", PerceiverInputs.of(Tensor.zeros(arena, 0, 3, 32, 32)),
                    "inputs has shape [0, 3, 32, 32]");
            assertRefused("image_fourier", PerceiverInputs.of(Tensor.zeros(arena, 1, 3, 0, 0)),
                    "inputs has shape [1, 3, 0, 0]");
            assertRefused("image_learned", PerceiverInputs.of(Tensor.zeros(arena, 2, 3, 12, 0)),
                    "inputs has shape [2, 3, 12, 0]");
            assertRefused("optical_flow", PerceiverInputs.of(Tensor.zeros(arena, 0, 2, 27, 12, 16)),
                    "inputs has shape [0, 2, 27, 12, 16]");
            assertRefused("masked_lm", PerceiverInputs.ofTokens(LongTensor.of(new long[0], 0, 24)),
                    "inputs has shape [0, 24]");
            assertRefused("sequence_classification", PerceiverInputs.ofTokens(LongTensor.of(new long[0], 1, 0)),
                    "inputs has shape [1, 0]");
            Map<String, Tensor> noAudio = new TreeMap<>(GoldenCase.of("multimodal").inputs(0, arena).modalities());
            noAudio.put("audio", Tensor.zeros(arena, 1, 0, 1));
            assertRefused("multimodal", PerceiverInputs.ofModalities(noAudio), "inputs.audio has shape [1, 0, 1]");
        }
        // Images: no decoder makes a 0-pixel image, and one too small to crop is refused by the processor.
        assertThatThrownBy(() -> new RgbImage(0, 0, new byte[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x0");
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> ImageProcessor.perceiverDefaults().preprocess(new RgbImage(1, 1, new byte[3]), arena))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("too small");
        }
    }

    private static void assertRefused(String name, PerceiverInputs in, String message) {
        try (Perceiver model = GoldenCase.of(name).load(Kernels.best(), 1)) {
            assertThatThrownBy(() -> model.forward(in)).as(name).isExactlyInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(message).hasMessageContaining("empty batch or a dimension of size 0");
        }
    }

    @Test
    void aSafetensorsHeaderClaimingATerabyteIsRefusedWithoutReadingIt() throws IOException {
        // 2^38 floats = 1 TiB of data, in a file that holds only the header.
        Path file = TestFiles.truncatedSafeTensors(dir.resolve("tera.safetensors"), "inputs", DType.F32, 1L << 38);
        assertThatThrownBy(() -> SafeTensorsFile.open(file)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessageContaining("tera.safetensors").hasMessageContaining("(truncated?)");
        assertThat(TestMemory.heapAllocatedBy(() -> SafeTensorsFile.open(file))).isLessThan(1L << 20);
    }

    @Test
    void anInputBeyond32BitIndexingIsRefusedBeforeAnyWork() throws IOException {
        // 2.7e9 floats: a 10.8 GB file that is all hole, so the test costs no disk.
        Path file = TestFiles.sparseSafeTensors(dir.resolve("huge.safetensors"), "inputs", DType.F32, 1, 3, 30_000, 30_000);
        try (Perceiver model = GoldenCase.of("image_fourier").load(Kernels.best(), 2);
             Checkpoint inputs = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            PerceiverInputs in = NamedInputs.read(inputs, arena);
            assertThatThrownBy(() -> model.forward(in)).isExactlyInstanceOf(InvalidInputException.class)
                    .hasMessage("inputs has shape [1, 3, 30000, 30000]: more than 2147483647 elements is beyond what the "
                            + "engine can index");
        }
    }

    /**
     * An image the Fourier head can index whose position table (1,032 bytes per pixel) exceeds the machine's memory:
     * refused when that table is asked for, having touched only the copy of the input (12 bytes per pixel). Where
     * memory is so large that this copy would exceed 1 GiB, the check is skipped, not run. The direct cross-attention
     * asks for the table; the factored one (off here) needs none on a Fourier grid and would run the image.
     */
    @Test
    void anInputWhoseWorkingBuffersExceedTheMachinesMemoryIsRefusedBeforeTheyAreAllocated() throws IOException {
        long pixels = Scratch.MAX_ALLOCATION_BYTES / 1032 + 1;
        int side = (int) Math.ceil(Math.sqrt(pixels));
        assumeTrue(12L * side * side < 1L << 30, "the input copy on a machine this large would exceed 1 GiB");
        assumeTrue(TestMemory.residentSetIsReadable(), "needs Linux's /proc/self to measure the peak resident set");
        Path file = TestFiles.sparseSafeTensors(dir.resolve("big.safetensors"), "inputs", DType.F32, 1, 3, side, side);
        GoldenCase golden = GoldenCase.of("image_fourier");
        try (Perceiver model = Perceiver.create(golden.config(), Checkpoints.open(golden.dir()),
                new CpuBackend(Kernels.best(), new ThreadPool(2)), true,
                Perceiver.Options.DEFAULT.withFactoredCrossAttention(false));
             Checkpoint inputs = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            PerceiverInputs in = NamedInputs.read(inputs, arena);
            TestMemory.resetPeak();
            long before = TestMemory.residentBytes();
            assertThatThrownBy(() -> model.forward(in)).isExactlyInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith("inputs [1, 3, " + side + ", " + side + "]: a ")
                    .hasMessageEndingWith("working buffer exceeds the " + String.format("%.1f GiB",
                            Scratch.MAX_ALLOCATION_BYTES / (double) (1L << 30)) + " of memory this machine has");
            // The input's pages and its copy, 28 bytes per pixel at most; nothing of the table's size.
            assertThat(TestMemory.peakResidentBytes() - before).isLessThan(28L * side * side + (256L << 20));
        }
    }
}
