package dev.perceiver.loader;

import dev.perceiver.loader.json.Json;
import dev.perceiver.loader.json.JsonException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    /** Activations the engine implements, by their transformers ACT2FN names. */
    public static final Set<String> SUPPORTED_ACTIVATIONS = Set.of("gelu", "relu");

    // A config is a few KiB; anything far bigger is the wrong file and should not be read into memory whole.
    private static final long MAX_CONFIG_BYTES = 16 << 20;
    // num_labels without id2label builds one name per label; bound it so a typo cannot exhaust memory.
    private static final int MAX_LABELS = 1 << 20;
    private static final Set<String> PROBLEM_TYPES =
            Set.of("regression", "single_label_classification", "multi_label_classification");

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

    /** Reads a config.json; every failure is a CheckpointException naming the file and the field. */
    public static PerceiverConfig load(Path configJson) {
        String text;
        try {
            long size = Files.size(configJson);
            if (size > MAX_CONFIG_BYTES)
                throw new CheckpointException(configJson, "config is " + size + " bytes, more than the "
                        + MAX_CONFIG_BYTES + " a config.json may have (is this the right file?)");
            text = Files.readString(configJson);
        } catch (CharacterCodingException e) {
            throw new CheckpointException(configJson, "config is not valid UTF-8", e);
        } catch (IOException e) {
            throw new CheckpointException(configJson, "cannot read config: " + e, e);
        }
        return parse(text, configJson);
    }

    /** Parses config.json text; errors are CheckpointExceptions without a file. */
    public static PerceiverConfig fromJson(String json) {
        return parse(json, null);
    }

    private static PerceiverConfig parse(String json, Path file) {
        Object root;
        try {
            root = Json.parse(json);
        } catch (JsonException e) {
            throw new CheckpointException(file, "config is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> map))
            throw new CheckpointException(file, "config must be a JSON object, found " + Json.describe(root));
        Fields f = new Fields(file, map);
        Object modelType = map.get("model_type");
        if (modelType != null && !"perceiver".equals(modelType))
            throw f.error("model_type", "must be \"perceiver\", found " + Json.describe(modelType));
        PerceiverConfig d = defaults();
        PerceiverConfig c = new PerceiverConfig(
                f.strings("architectures"),
                f.integer("num_latents", d.numLatents, 1),
                f.integer("d_latents", d.dLatents, 1),
                f.integer("d_model", d.dModel, 1),
                f.integer("num_blocks", d.numBlocks, 0),
                f.integer("num_self_attends_per_block", d.numSelfAttendsPerBlock, 0),
                f.integer("num_self_attention_heads", d.numSelfAttentionHeads, 1),
                f.integer("num_cross_attention_heads", d.numCrossAttentionHeads, 1),
                f.optionalInteger("qk_channels"),
                f.optionalInteger("v_channels"),
                f.string("cross_attention_shape_for_attention", d.crossAttentionShapeForAttention),
                f.integer("self_attention_widening_factor", d.selfAttentionWideningFactor, 1),
                f.integer("cross_attention_widening_factor", d.crossAttentionWideningFactor, 1),
                f.string("hidden_act", d.hiddenAct),
                f.number("attention_probs_dropout_prob", d.attentionProbsDropoutProb),
                f.number("initializer_range", d.initializerRange),
                f.number("layer_norm_eps", d.layerNormEps),
                f.bool("use_query_residual", d.useQueryResidual),
                f.integer("vocab_size", d.vocabSize, 1),
                f.integer("max_position_embeddings", d.maxPositionEmbeddings, 1),
                f.integer("image_size", d.imageSize, 1),
                f.sizes("train_size", d.trainSize),
                f.integer("num_frames", d.numFrames, 1),
                f.integer("audio_samples_per_frame", d.audioSamplesPerFrame, 1),
                f.integer("samples_per_patch", d.samplesPerPatch, 1),
                f.sizes("output_shape", d.outputShape),
                f.integer("output_num_channels", d.outputNumChannels, 1),
                f.integer("_label_trainable_num_channels", d.labelTrainableNumChannels, 1),
                f.id2label(),
                f.optionalString("problem_type"),
                f.integer("chunk_size_feed_forward", d.chunkSizeFeedForward, 0));
        c.validate(f);
        return c;
    }

    /** The checks transformers makes when it builds the model from this config (PerceiverEncoder, attention). */
    private void validate(Fields f) {
        if (!Set.of("q", "kv").contains(crossAttentionShapeForAttention))
            throw f.error("cross_attention_shape_for_attention", "must be \"q\" or \"kv\", found \""
                    + crossAttentionShapeForAttention + "\"");
        if (!SUPPORTED_ACTIVATIONS.contains(hiddenAct))
            throw f.error("hidden_act", "activation \"" + hiddenAct + "\" is not supported (supported: gelu, relu)");
        if (problemType != null && !PROBLEM_TYPES.contains(problemType))
            throw f.error("problem_type", "must be one of regression, single_label_classification, "
                    + "multi_label_classification or null, found \"" + problemType + "\"");
        f.divisible("d_latents", dLatents, "num_self_attention_heads", numSelfAttentionHeads);
        f.divisible("d_latents", dLatents, "num_cross_attention_heads", numCrossAttentionHeads);
        if (qkChannels != null) {
            f.divisible("qk_channels", qkChannels, "num_self_attention_heads", numSelfAttentionHeads);
            f.divisible("qk_channels", qkChannels, "num_cross_attention_heads", numCrossAttentionHeads);
        }
        if (vChannels != null) {
            f.divisible("v_channels", vChannels, "num_self_attention_heads", numSelfAttentionHeads);
            f.divisible("v_channels", vChannels, "num_cross_attention_heads", numCrossAttentionHeads);
            // Self-attention adds its v_channels-wide output to the d_latents-wide input.
            if (vChannels != dLatents)
                throw f.error("v_channels", "must be null or equal d_latents (" + dLatents + ") for the self-attention "
                        + "residual, found " + vChannels);
        }
    }

    /** Typed reads of config members, failing with the file and the key. */
    private record Fields(Path file, Map<?, ?> map) {

        CheckpointException error(String key, String message) {
            return new CheckpointException(file, "config field '" + key + "': " + message);
        }

        private CheckpointException expected(String key, String what, Object found) {
            return error(key, "expected " + what + ", found " + Json.describe(found));
        }

        int integer(String key, int fallback, int min) {
            return map.containsKey(key) ? toInt(key, map.get(key), min) : fallback;
        }

        Integer optionalInteger(String key) {
            Object v = map.get(key);
            return v == null ? null : toInt(key, v, 1);
        }

        private int toInt(String key, Object v, int min) {
            String what = min == 0 ? "a non-negative integer" : "a positive integer";
            if (!(v instanceof Long l) || l < min || l > Integer.MAX_VALUE) throw expected(key, what, v);
            return l.intValue();
        }

        double number(String key, double fallback) {
            if (!map.containsKey(key)) return fallback;
            if (!(map.get(key) instanceof Number n)) throw expected(key, "a number", map.get(key));
            return n.doubleValue();
        }

        boolean bool(String key, boolean fallback) {
            if (!map.containsKey(key)) return fallback;
            if (!(map.get(key) instanceof Boolean b)) throw expected(key, "true or false", map.get(key));
            return b;
        }

        String string(String key, String fallback) {
            if (!map.containsKey(key)) return fallback;
            if (!(map.get(key) instanceof String s)) throw expected(key, "a string", map.get(key));
            return s;
        }

        String optionalString(String key) {
            return map.get(key) == null ? null : string(key, null);
        }

        List<String> strings(String key) {
            Object v = map.get(key);
            if (v == null) return List.of();
            if (!(v instanceof List<?> list)) throw expected(key, "an array of strings", v);
            List<String> out = new ArrayList<>();
            for (Object item : list) {
                if (!(item instanceof String s)) throw expected(key, "an array of strings, an element is", item);
                out.add(s);
            }
            return out;
        }

        List<Integer> sizes(String key, List<Integer> fallback) {
            if (!map.containsKey(key)) return fallback;
            if (!(map.get(key) instanceof List<?> list)) throw expected(key, "an array of positive integers", map.get(key));
            List<Integer> out = new ArrayList<>();
            for (Object item : list) out.add(toInt(key, item, 1));
            return out;
        }

        /** transformers' rule: id2label wins when given, else num_labels (default 2) names LABEL_0..LABEL_{n-1}. */
        Map<Integer, String> id2label() {
            Object v = map.get("id2label");
            Map<Integer, String> labels = new HashMap<>();
            if (v == null) {
                Object n = map.containsKey("num_labels") ? map.get("num_labels") : 2L;
                if (!(n instanceof Long count) || count < 0 || count > MAX_LABELS)
                    throw expected("num_labels", "an integer from 0 to " + MAX_LABELS, n);
                for (int i = 0; i < count; i++) labels.put(i, "LABEL_" + i);
                return labels;
            }
            if (!(v instanceof Map<?, ?> names)) throw expected("id2label", "an object of index to label name", v);
            for (Map.Entry<?, ?> e : names.entrySet()) {
                String index = (String) e.getKey();
                try {
                    labels.put(Integer.parseInt(index), labelName(index, e.getValue()));
                } catch (NumberFormatException notAnIndex) {
                    throw error("id2label", "key \"" + index + "\" is not an integer label index");
                }
            }
            return labels;
        }

        private String labelName(String index, Object name) {
            if (!(name instanceof String s)) throw expected("id2label", "a string name for label " + index, name);
            return s;
        }

        void divisible(String key, int value, String divisorKey, int divisor) {
            if (value % divisor != 0)
                throw error(key, value + " is not divisible by " + divisorKey + " (" + divisor + ")");
        }
    }
}
