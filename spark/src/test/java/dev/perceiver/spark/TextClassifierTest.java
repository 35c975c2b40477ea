package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TextClassifierTest {
    @TempDir
    static Path model;

    /**
     * The golden model with its safetensors header padded by 8 spaces (which the format allows): its header length
     * 0x2380 starts the file with byte 0x80, which Checkpoints.open takes for a legacy pickle and refuses (a loader
     * bug, reported; the padded copy starts with 0x88).
     */
    @BeforeAll
    static void copyModel() throws IOException {
        Path golden = SparkTests.GOLDEN.resolve("sequence_classification");
        Files.copy(golden.resolve("config.json"), model.resolve("config.json"));
        byte[] file = Files.readAllBytes(golden.resolve("model.safetensors"));
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int header = (int) in.getLong(0);
        ByteBuffer out = ByteBuffer.allocate(file.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header + 8).put(file, 8, header).put("        ".getBytes(StandardCharsets.US_ASCII))
                .put(file, 8 + header, file.length - 8 - header);
        Files.write(model.resolve("model.safetensors"), out.array());
    }

    /** The engine's top-k for one text, alone and unbatched. */
    static List<Prediction> expected(Perceiver m, String text, int k) {
        int length = m.config().maxPositionEmbeddings();
        PerceiverTokenizer.Encoding e = PerceiverTokenizer.encode(text, length, PerceiverTokenizer.Overflow.ERROR);
        float[] mask = new float[length];
        for (int i = 0; i < length; i++) mask[i] = e.attentionMask()[i];
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = m.forward(PerceiverInputs.ofTokens(LongTensor.of(Arrays.stream(e.inputIds()).asLongStream()
                    .toArray(), 1, length)).attentionMask(Tensor.of(arena, mask, 1, length))).logitsTensor();
            return SparkBridge.topK(logits.select(0, 0).toArray(), k, m.config()::label);
        }
    }

    @Test
    void textsMatchTheEngineAndATooLongTextCostsOnlyItsRow() {
        List<String> texts = List.of("short", "a longer text here", "x".repeat(40), "é and ü", "");
        List<Row> rows = new TextClassifier(model.toString()).topK(2).batchSize(2)
                .transform(SparkTests.spark().createDataset(texts, Encoders.STRING()).toDF().repartition(2))
                .collectAsList();
        assertThat(rows).hasSize(texts.size());
        try (Perceiver m = Perceiver.load(model, new Perceiver.Options(1, "cpu"))) {
            for (Row r : rows) {
                String text = r.getString(0);
                if (text.length() == 40) {
                    assertThat(r.getString(2)).isEqualTo("text of 40 tokens (UTF-8 bytes) does not fit 24 positions with [CLS] and [SEP]");
                    continue;
                }
                assertThat(r.isNullAt(2)).as(text).isTrue();
                ImageClassifierTest.assertSame(r.getList(1), expected(m, text, 2));
            }
        }
    }
}
