package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The configs of DeepMind's published checkpoints (the hub's deepmind/* repos), for benchmarks at their real sizes.
 * Fields not given keep the reference defaults.
 */
public final class OfficialModels {
    private static final String VISION = "\"num_latents\": 512, \"d_latents\": 1024, \"num_blocks\": 8,"
            + " \"num_self_attends_per_block\": 6, \"num_self_attention_heads\": 8, \"num_cross_attention_heads\": 1,"
            + " \"num_labels\": 1000, ";
    private static final Map<String, String> CONFIGS = new LinkedHashMap<>();

    static {
        CONFIGS.put("vision-learned", "{\"architectures\": [\"PerceiverForImageClassificationLearned\"], " + VISION
                + "\"d_model\": 512, \"image_size\": 224}");
        CONFIGS.put("vision-fourier", "{\"architectures\": [\"PerceiverForImageClassificationFourier\"], " + VISION
                + "\"d_model\": 261}");
        CONFIGS.put("vision-conv", "{\"architectures\": [\"PerceiverForImageClassificationConvProcessing\"], " + VISION
                + "\"d_model\": 322}");
        CONFIGS.put("optical-flow", "{\"architectures\": [\"PerceiverForOpticalFlow\"], \"num_latents\": 2048,"
                + " \"d_latents\": 512, \"d_model\": 322, \"num_blocks\": 1, \"num_self_attends_per_block\": 24,"
                + " \"num_self_attention_heads\": 16, \"num_cross_attention_heads\": 1, \"train_size\": [368, 496]}");
        CONFIGS.put("multimodal", "{\"architectures\": [\"PerceiverForMultimodalAutoencoding\"], \"num_latents\": 784,"
                + " \"d_latents\": 512, \"d_model\": 704, \"num_blocks\": 1, \"num_self_attends_per_block\": 8,"
                + " \"num_self_attention_heads\": 8, \"num_cross_attention_heads\": 1, \"num_labels\": 700}");
        CONFIGS.put("language-mlm", "{\"architectures\": [\"PerceiverForMaskedLM\"], \"num_latents\": 256,"
                + " \"d_latents\": 1280, \"d_model\": 768, \"num_blocks\": 1, \"num_self_attends_per_block\": 26,"
                + " \"num_self_attention_heads\": 8, \"num_cross_attention_heads\": 8, \"qk_channels\": 256,"
                + " \"v_channels\": 1280, \"vocab_size\": 262, \"max_position_embeddings\": 2048}");
    }

    private OfficialModels() {}

    public static Set<String> names() {
        return CONFIGS.keySet();
    }

    public static boolean has(String name) {
        return CONFIGS.containsKey(name);
    }

    public static PerceiverConfig config(String name) {
        return PerceiverConfig.fromJson(json(name));
    }

    /** The config as config.json text, for a model folder of this size. */
    public static String json(String name) {
        String json = CONFIGS.get(name);
        if (json == null)
            throw new IllegalArgumentException("unknown model '" + name + "'; official ones are " + String.join(", ", names()));
        return json;
    }
}
