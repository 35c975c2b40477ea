package dev.perceiver.loader;

import java.util.List;
import java.util.Map;

/**
 * A checkpoint's config.json (transformers' PerceiverConfig), with the reference default for every absent field.
 * Field names are the JSON keys in camel case. {@code layerNormEps} is kept for completeness but, as in the
 * reference, every LayerNorm uses 1e-5.
 */
public record PerceiverConfig(
        List<String> architectures,
        int numLatents,
        int dLatents,
        int dModel,
        int numBlocks,
        int numSelfAttendsPerBlock,
        int numSelfAttentionHeads,
        int numCrossAttentionHeads,
        Integer qkChannels,
        Integer vChannels,
        String crossAttentionShapeForAttention,
        int selfAttentionWideningFactor,
        int crossAttentionWideningFactor,
        String hiddenAct,
        double attentionProbsDropoutProb,
        double initializerRange,
        double layerNormEps,
        boolean useQueryResidual,
        int vocabSize,
        int maxPositionEmbeddings,
        int imageSize,
        List<Integer> trainSize,
        int numFrames,
        int audioSamplesPerFrame,
        int samplesPerPatch,
        List<Integer> outputShape,
        int outputNumChannels,
        int labelTrainableNumChannels,
        Map<Integer, String> id2label,
        String problemType,
        int chunkSizeFeedForward) {

    /** The LayerNorm epsilon every Perceiver layer really uses (torch's default; the config field is unused). */
    public static final float LAYER_NORM_EPS = 1e-5f;

    public PerceiverConfig {
        architectures = List.copyOf(architectures);
        trainSize = List.copyOf(trainSize);
        outputShape = List.copyOf(outputShape);
        id2label = Map.copyOf(id2label);
    }

    /** The reference's defaults (transformers PerceiverConfig()), with two labels. */
    public static PerceiverConfig defaults() {
        return new PerceiverConfig(List.of(), 256, 1280, 768, 1, 26, 8, 8, null, null, "kv", 1, 1, "gelu", 0.1, 0.02,
                1e-12, true, 262, 2048, 56, List.of(368, 496), 16, 1920, 16, List.of(1, 16, 224, 224), 512, 1024,
                Map.of(0, "LABEL_0", 1, "LABEL_1"), null, 0);
    }

    public int numLabels() {
        return id2label.size();
    }

    /** The head class named by architectures[0], or null if none is given. */
    public String architecture() {
        return architectures.isEmpty() ? null : architectures.getFirst();
    }

    /** The class name for label index i ("LABEL_i" when the config has no name for it). */
    public String label(int i) {
        return id2label.getOrDefault(i, "LABEL_" + i);
    }
}
