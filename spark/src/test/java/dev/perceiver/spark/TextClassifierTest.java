package dev.perceiver.spark;

import dev.perceiver.task.Prediction;
import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TextClassifierTest {
    static final Path MODEL = SparkTests.GOLDEN.resolve("sequence_classification");

    /** perceiver classify-text's words for a text of 40 bytes. */
    static final String TOO_LONG = "the text is 40 tokens (UTF-8 bytes, a [MASK] counting one); this model takes at "
            + "most 22 (max_position_embeddings 24 less [CLS] and [SEP])";

    /** The engine's top-k for one text, alone and unbatched. */
    static List<Prediction> expected(Perceiver m, String text, int k) {
        int length = m.config().maxPositionEmbeddings();
        PerceiverTokenizer.Encoding e = PerceiverTokenizer.encode(text, length, PerceiverTokenizer.Overflow.ERROR);
        float[] mask = new float[length];
        for (int i = 0; i < length; i++) mask[i] = e.attentionMask()[i];
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = m.forward(PerceiverInputs.ofTokens(LongTensor.of(Arrays.stream(e.inputIds()).asLongStream()
                    .toArray(), 1, length)).attentionMask(Tensor.of(arena, mask, 1, length))).logitsTensor();
            return Prediction.topK(logits.select(0, 0).toArray(), k, m.config()::label);
        }
    }

    @Test
    void textsMatchTheEngineAndATooLongTextCostsOnlyItsRow() {
        List<String> texts = List.of("short", "a longer text here", "x".repeat(40), "é and ü", "");
        List<Row> rows = new TextClassifier(MODEL.toString()).topK(2).batchSize(2)
                .transform(SparkTests.spark().createDataset(texts, Encoders.STRING()).toDF().repartition(2))
                .collectAsList();
        assertThat(rows).hasSize(texts.size());
        try (Perceiver m = Perceiver.load(MODEL, new Perceiver.Options(1, "cpu"))) {
            for (Row r : rows) {
                String text = r.getString(0);
                if (text.length() == 40) {
                    assertThat(r.getString(2)).isEqualTo(TOO_LONG);
                    continue;
                }
                assertThat(r.isNullAt(2)).as(text).isTrue();
                ImageClassifierTest.assertSame(r.getList(1), expected(m, text, 2));
            }
        }
    }
}
