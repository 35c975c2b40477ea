package dev.perceiver.task;

import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.FlowInput;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.io.VideoFiles;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The task API agrees with the low-level model it wraps, and refuses the wrong model by name. */
class TaskApiTest {
    private static final Path GOLDEN = Path.of(System.getProperty("perceiver.testdata", "../testdata"), "golden");
    private static final Path IMAGE = GOLDEN.resolve("inputs").resolve("image4_48x64.png");
    private static final Perceiver.Options CPU = new Perceiver.Options(1, "cpu");

    /** The learned-position model takes image_size² = 144 positions: the classifier prepares 12x12 images for it. */
    @Test
    void imageClassifierPreparesImagesAtTheLearnedModelsSize() throws Exception {
        Path dir = GOLDEN.resolve("image_learned");
        float[] want;
        try (Perceiver m = Perceiver.load(dir, CPU); Arena arena = Arena.ofConfined()) {
            Tensor x = ImageProcessor.perceiverDefaults(12).preprocess(ImageFiles.read(IMAGE), arena).reshape(1, 3, 12, 12);
            want = m.forward(PerceiverInputs.of(x)).logitsTensor().select(0, 0).toArray();
        }
        try (ImageClassifier c = ImageClassifier.open(dir, CPU)) {
            List<Prediction> top = c.classify(IMAGE, 3);
            assertThat(top).hasSize(3);
            double[] p = Prediction.softmax(want);
            for (Prediction got : top) {
                assertThat(got.logit()).isCloseTo(want[got.index()], within(1e-6f));
                assertThat(got.probability()).isCloseTo(p[got.index()], within(1e-9));
                assertThat(got.label()).isEqualTo("LABEL_" + got.index());
            }
            assertThat(top.get(0).logit()).isGreaterThanOrEqualTo(top.get(1).logit());
            // A batch gives each image what it gets alone.
            RgbImage image = ImageFiles.read(IMAGE);
            assertThat(c.classify(List.of(image, image), 3)).containsExactly(top, top);
        }
    }

    @Test
    void topKSortsByLogitAndKeepsTheLowerIndexOfATie() {
        List<Prediction> top = Prediction.topK(new float[] {1f, 3f, 3f, -2f}, 3, i -> "c" + i);
        assertThat(top).extracting(Prediction::index).containsExactly(1, 2, 0);
        assertThat(top.getFirst().probability()).isCloseTo(Math.exp(3) / (Math.exp(1) + 2 * Math.exp(3) + Math.exp(-2)),
                within(1e-12));
        assertThat(Prediction.topK(new float[] {0f, 1f}, 5, i -> "")).hasSize(2);
    }

    @Test
    void aModelOfAnotherTaskIsRefusedBeforeItsWeightsAreRead() {
        Path dir = GOLDEN.resolve("optical_flow");
        assertThatThrownBy(() -> ImageClassifier.open(dir, CPU)).isInstanceOf(CheckpointException.class)
                .hasMessage(dir + " is a PerceiverForOpticalFlow; classify runs PerceiverForImageClassificationLearned, "
                        + "PerceiverForImageClassificationFourier or PerceiverForImageClassificationConvProcessing "
                        + "(for this model use 'perceiver flow')");
        assertThatThrownBy(() -> MaskFiller.open(GOLDEN.resolve("sequence_classification"), CPU))
                .hasMessageContaining("fill-mask runs PerceiverForMaskedLM");
    }

    @Test
    void textClassifierAndMaskFillerAgreeWithTheirLogits() {
        try (TextClassifier c = TextClassifier.open(GOLDEN.resolve("sequence_classification"), CPU);
             Arena arena = Arena.ofConfined()) {
            float[] logits = TextBatch.logits(c.model(), List.of(TextBatch.tokens("a short text", 24)), arena)
                    .select(0, 0).toArray();
            assertThat(c.classify("a short text", 2)).isEqualTo(Prediction.topK(logits, 2, c.model().config()::label));
            assertThatThrownBy(() -> c.classify("x".repeat(23), 1)).isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("at most 22");
        }
        try (MaskFiller f = MaskFiller.open(GOLDEN.resolve("masked_lm"), CPU)) {
            MaskFiller.Filled filled = f.fill("ab[MASK]d[MASK]", 3);
            assertThat(filled.masks()).extracting(MaskFiller.Mask::position).containsExactly(3, 5);
            StringBuilder want = new StringBuilder("ab");
            want.append(MaskFiller.tokenText(filled.masks().get(0).best())).append('d')
                    .append(MaskFiller.tokenText(filled.masks().get(1).best()));
            assertThat(filled.text()).isEqualTo(want.toString());
            assertThat(filled.masks().getFirst().top()).hasSize(3);
            assertThatThrownBy(() -> f.fill("no mask", 1)).hasMessage("the text has no [MASK] to fill in");
        }
    }

    /** Frames of the model's own size are one tile: the flow is the model's, times FLOW_SCALE_FACTOR (pixels). */
    @Test
    void opticalFlowOfOneTileIsTheModelsFlowInPixels() throws Exception {
        RgbImage f0 = ImageFiles.read(GOLDEN.resolve("inputs").resolve("frame0_16x12.png"));
        RgbImage f1 = ImageFiles.read(GOLDEN.resolve("inputs").resolve("frame1_16x12.png"));
        try (OpticalFlow flow = OpticalFlow.open(GOLDEN.resolve("optical_flow"), CPU); Arena arena = Arena.ofConfined()) {
            Tensor pixels = flow.flow(f0, f1, arena);
            assertThat(pixels.shape()).containsExactly(12, 16, 2);
            float[] want = flow.model().forward(PerceiverInputs.of(FlowInput.patches(f0, f1, arena))).logitsTensor().toArray();
            float[] got = pixels.toArray();
            for (int i = 0; i < want.length; i++)
                assertThat(got[i]).isCloseTo(want[i] * FlowFiles.FLOW_SCALE_FACTOR, within(1e-5f));
            assertThat(flow.overlap(-1)).isEqualTo(11);
            assertThatThrownBy(() -> flow.overlap(12)).hasMessage("overlap must be less than the tile's shorter side, 12, got 12");
            assertThatThrownBy(() -> flow.flow(f0, new RgbImage(8, 8, new byte[8 * 8 * 3]), arena))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("both frames must have the same size");
        }
    }

    @Test
    void autoencoderReturnsTheModelsReconstructionAndLabels() {
        SplittableRandom rnd = new SplittableRandom(5);
        try (Autoencoder a = Autoencoder.open(GOLDEN.resolve("multimodal"), CPU); Arena results = Arena.ofShared();
             Arena arena = Arena.ofConfined()) {
            List<RgbImage> frames = List.of(random(rnd, 8, 8), random(rnd, 8, 8));
            float[] audio = new float[a.samples()];
            for (int i = 0; i < audio.length; i++) audio[i] = (float) rnd.nextDouble(-1, 1);
            Autoencoder.Reconstruction r = a.autoencode(frames, audio, 2, results);
            assertThat(r.frames().shape()).containsExactly(2, 8, 8, 3);
            assertThat(r.audio().size()).isEqualTo(a.samples());
            PerceiverOutput want = a.model().forward(PerceiverInputs.ofModalities(Map.of(
                    "image", VideoFiles.fromFrames(frames, arena), "audio", Tensor.of(arena, audio, 1, audio.length, 1),
                    "label", Tensor.zeros(arena, 1, a.model().config().numLabels()))));
            assertThat(r.frames().toArray()).containsExactly(want.logits().get("image").toArray());
            assertThat(r.audio().toArray()).containsExactly(want.logits().get("audio").toArray());
            assertThat(r.labels()).isEqualTo(Prediction.topK(want.logits().get("label").toArray(), 2,
                    a.model().config()::label));
            assertThatThrownBy(() -> a.autoencode(List.of(random(rnd, 9, 8), random(rnd, 9, 8)), audio, 1, results))
                    .hasMessageContaining("frames are 9x8; this model takes 8x8 frames");
        }
    }

    private static RgbImage random(SplittableRandom rnd, int width, int height) {
        byte[] px = new byte[width * height * 3];
        for (int i = 0; i < px.length; i++) px[i] = (byte) rnd.nextInt(256);
        return new RgbImage(width, height, px);
    }
}
