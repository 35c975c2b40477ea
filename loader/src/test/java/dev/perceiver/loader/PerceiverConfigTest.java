package dev.perceiver.loader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PerceiverConfigTest {

    @Test
    void emptyConfigIsTheReferenceDefaults() {
        PerceiverConfig c = PerceiverConfig.fromJson("{}");
        assertThat(c).isEqualTo(PerceiverConfig.defaults());
        assertThat(c.numLatents()).isEqualTo(256);
        assertThat(c.dLatents()).isEqualTo(1280);
        assertThat(c.qkChannels()).isNull();
        assertThat(c.trainSize()).containsExactly(368, 496);
        assertThat(c.numLabels()).isEqualTo(2);
        assertThat(c.label(1)).isEqualTo("LABEL_1");
        assertThat(c.architecture()).isNull();
    }

    @Test
    void maskedLm() {
        PerceiverConfig c = PerceiverConfig.load(TestData.golden("masked_lm").resolve("config.json"));
        assertThat(c.architecture()).isEqualTo("PerceiverForMaskedLM");
        assertThat(c.qkChannels()).isEqualTo(16);
        assertThat(c.vChannels()).isEqualTo(32);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(24);
        assertThat(c.dModel()).isEqualTo(48);
        assertThat(c.dLatents()).isEqualTo(32);
        assertThat(c.numLatents()).isEqualTo(16);
        assertThat(c.numBlocks()).isEqualTo(2);
        assertThat(c.numSelfAttendsPerBlock()).isEqualTo(2);
        assertThat(c.numSelfAttentionHeads()).isEqualTo(4);
        assertThat(c.numCrossAttentionHeads()).isEqualTo(1);
        assertThat(c.vocabSize()).isEqualTo(262);
        assertThat(c.layerNormEps()).isEqualTo(1e-12);
        assertThat(c.attentionProbsDropoutProb()).isEqualTo(0.1);
        assertThat(c.useQueryResidual()).isTrue();
        assertThat(c.hiddenAct()).isEqualTo("gelu");
        assertThat(c.problemType()).isNull();
        assertThat(c.numLabels()).isEqualTo(2);
    }

    @Test
    void opticalFlow() {
        PerceiverConfig c = PerceiverConfig.load(TestData.golden("optical_flow").resolve("config.json"));
        assertThat(c.architecture()).isEqualTo("PerceiverForOpticalFlow");
        assertThat(c.trainSize()).containsExactly(12, 16);
        assertThat(c.dModel()).isEqualTo(322);
        assertThat(c.qkChannels()).isNull();
    }

    @Test
    void multimodal() {
        for (String folder : List.of("multimodal", "multimodal_full_queries")) {
            PerceiverConfig c = PerceiverConfig.load(TestData.golden(folder).resolve("config.json"));
            assertThat(c.architecture()).isEqualTo("PerceiverForMultimodalAutoencoding");
            assertThat(c.labelTrainableNumChannels()).isEqualTo(32);
            assertThat(c.outputShape()).containsExactly(1, 2, 8, 8);
            assertThat(c.outputNumChannels()).isEqualTo(24);
            assertThat(c.numFrames()).isEqualTo(2);
            assertThat(c.audioSamplesPerFrame()).isEqualTo(8);
            assertThat(c.samplesPerPatch()).isEqualTo(4);
            assertThat(c.imageSize()).isEqualTo(8);
            assertThat(c.numLabels()).isEqualTo(7);
            assertThat(c.label(6)).isEqualTo("LABEL_6");
        }
    }

    @Test
    void imageClassifiersAndSequenceClassification() {
        PerceiverConfig learned = PerceiverConfig.load(TestData.golden("image_learned").resolve("config.json"));
        assertThat(learned.architecture()).isEqualTo("PerceiverForImageClassificationLearned");
        assertThat(learned.imageSize()).isEqualTo(12);
        assertThat(learned.dModel()).isEqualTo(768);
        assertThat(learned.numLabels()).isEqualTo(10);

        PerceiverConfig conv = PerceiverConfig.load(TestData.golden("image_conv").resolve("config.json"));
        assertThat(conv.architecture()).isEqualTo("PerceiverForImageClassificationConvProcessing");
        assertThat(conv.problemType()).isEqualTo("single_label_classification");
        assertThat(conv.dModel()).isEqualTo(322);

        PerceiverConfig fourier = PerceiverConfig.load(TestData.golden("image_fourier").resolve("config.json"));
        assertThat(fourier.architecture()).isEqualTo("PerceiverForImageClassificationFourier");
        assertThat(fourier.dModel()).isEqualTo(261);
        assertThat(fourier.imageSize()).isEqualTo(56);

        PerceiverConfig seq = PerceiverConfig.load(TestData.golden("sequence_classification").resolve("config.json"));
        assertThat(seq.architecture()).isEqualTo("PerceiverForSequenceClassification");
        assertThat(seq.numLabels()).isEqualTo(3);
        assertThat(seq.label(2)).isEqualTo("LABEL_2");
        assertThat(seq.maxPositionEmbeddings()).isEqualTo(24);
    }

    @Test
    void id2labelWinsOverNumLabels() {
        PerceiverConfig c = PerceiverConfig.fromJson("{\"id2label\": {\"0\": \"cat\", \"1\": \"dog\", \"2\": \"emu\"}, \"num_labels\": 5}");
        assertThat(c.id2label()).isEqualTo(Map.of(0, "cat", 1, "dog", 2, "emu"));
        assertThat(c.numLabels()).isEqualTo(3);
        assertThat(c.label(1)).isEqualTo("dog");
    }

    @Test
    void numLabelsAloneNamesLabels() {
        PerceiverConfig c = PerceiverConfig.fromJson("{\"num_labels\": 4, \"id2label\": null}");
        assertThat(c.id2label()).isEqualTo(Map.of(0, "LABEL_0", 1, "LABEL_1", 2, "LABEL_2", 3, "LABEL_3"));
        assertThat(PerceiverConfig.fromJson("{\"num_labels\": 0}").numLabels()).isZero();
    }

    @Test
    void nullableFieldsAndOtherTypes() {
        PerceiverConfig c = PerceiverConfig.fromJson("{\"qk_channels\": 64, \"v_channels\": null, \"d_latents\": 64,"
                + " \"attention_probs_dropout_prob\": 0, \"architectures\": null, \"problem_type\": \"regression\","
                + " \"hidden_act\": \"relu\", \"cross_attention_shape_for_attention\": \"q\", \"use_query_residual\": false,"
                + " \"num_blocks\": 0, \"torch_dtype\": \"float32\", \"label2id\": {\"x\": 0}}");
        assertThat(c.qkChannels()).isEqualTo(64);
        assertThat(c.vChannels()).isNull();
        assertThat(c.attentionProbsDropoutProb()).isZero();
        assertThat(c.architectures()).isEmpty();
        assertThat(c.problemType()).isEqualTo("regression");
        assertThat(c.hiddenAct()).isEqualTo("relu");
        assertThat(c.crossAttentionShapeForAttention()).isEqualTo("q");
        assertThat(c.useQueryResidual()).isFalse();
        assertThat(c.numBlocks()).isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"num_latents": "16"}                            | config field 'num_latents': expected a positive integer, found string "16"
            {"num_latents": 16.0}                            | config field 'num_latents': expected a positive integer, found number 16.0
            {"num_latents": 0}                               | config field 'num_latents': expected a positive integer, found integer 0
            {"num_latents": null}                            | config field 'num_latents': expected a positive integer, found null
            {"d_latents": 4294967296}                        | config field 'd_latents': expected a positive integer, found integer 4294967296
            {"num_blocks": -1}                               | config field 'num_blocks': expected a non-negative integer, found integer -1
            {"qk_channels": "16"}                            | config field 'qk_channels': expected a positive integer, found string "16"
            {"use_query_residual": 1}                        | config field 'use_query_residual': expected true or false, found integer 1
            {"hidden_act": 3}                                | config field 'hidden_act': expected a string, found integer 3
            {"hidden_act": "silu"}                           | config field 'hidden_act': activation "silu" is not supported (supported: gelu, relu)
            {"layer_norm_eps": "tiny"}                       | config field 'layer_norm_eps': expected a number, found string "tiny"
            {"train_size": 12}                               | config field 'train_size': expected an array of positive integers, found integer 12
            {"output_shape": [1, 2, -8, 8]}                  | config field 'output_shape': expected a positive integer, found integer -8
            {"architectures": ["A", 1]}                      | config field 'architectures': expected an array of strings, an element is, found integer 1
            {"id2label": ["cat"]}                            | config field 'id2label': expected an object of index to label name, found array
            {"id2label": {"zero": "cat"}}                    | config field 'id2label': key "zero" is not an integer label index
            {"id2label": {"0": 7}}                           | config field 'id2label': expected a string name for label 0, found integer 7
            {"num_labels": -1}                               | config field 'num_labels': expected an integer from 0 to 1048576, found integer -1
            {"num_labels": 99999999999}                      | config field 'num_labels': expected an integer from 0 to 1048576, found integer 99999999999
            {"d_latents": 30}                                | config field 'd_latents': 30 is not divisible by num_self_attention_heads (8)
            {"d_latents": 12, "num_self_attention_heads": 4, "num_cross_attention_heads": 8} | config field 'd_latents': 12 is not divisible by num_cross_attention_heads (8)
            {"qk_channels": 12}                              | config field 'qk_channels': 12 is not divisible by num_self_attention_heads (8)
            {"v_channels": 64}                               | config field 'v_channels': must be null or equal d_latents (1280) for the self-attention residual, found 64
            {"cross_attention_shape_for_attention": "k"}     | config field 'cross_attention_shape_for_attention': must be "q" or "kv", found "k"
            {"problem_type": "ranking"}                      | config field 'problem_type': must be one of regression, single_label_classification, multi_label_classification or null, found "ranking"
            {"model_type": "bert"}                           | config field 'model_type': must be "perceiver", found string "bert"
            [1, 2]                                           | config must be a JSON object, found array
            {"num_latents": 16,}                             | config is not valid JSON: at character 19: expected a string key in an object, found '}'
            """)
    void rejectsWithTheFieldAndRule(String json, String message) {
        assertThatThrownBy(() -> PerceiverConfig.fromJson(json))
                .isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(message);
    }

    @Test
    void loadNamesTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"num_self_attention_heads\": \"eight\"}");
        assertThatThrownBy(() -> PerceiverConfig.load(file))
                .isInstanceOfSatisfying(CheckpointException.class, e -> assertThat(e.file()).isEqualTo(file))
                .hasMessage(file + ": config field 'num_self_attention_heads': expected a positive integer, found string \"eight\"");

        Files.write(file, new byte[]{'{', '"', (byte) 0xC3, '"', ':', '1', '}'});
        assertThatThrownBy(() -> PerceiverConfig.load(file)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(file + ": config is not valid UTF-8");

        Path missing = dir.resolve("absent.json");
        assertThatThrownBy(() -> PerceiverConfig.load(missing)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(missing + ": cannot read config: java.nio.file.NoSuchFileException");
    }
}
