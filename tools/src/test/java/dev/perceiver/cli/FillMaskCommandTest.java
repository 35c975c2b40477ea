package dev.perceiver.cli;

import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.loader.json.Json;
import dev.perceiver.task.MaskFiller;
import dev.perceiver.task.Prediction;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class FillMaskCommandTest {
    /** masked_lm has max_position_embeddings 24. */
    private static final String TEXT = "Hi [MASK]ou, th[MASK][MASK]e!";

    @Test
    void predictsTheArgmaxByteAtEveryMask() throws Exception {
        float[][] logits = TextCommandsTest.libraryLogits("masked_lm", TEXT);
        int[] ids = PerceiverTokenizer.encode(TEXT);
        List<Integer> positions = List.of(4, 11, 12);
        for (int p : positions) assertThat(ids[p]).isEqualTo(PerceiverTokenizer.MASK);

        Cli.Result r = Cli.run("fill-mask", "--model", Cli.golden("masked_lm"), "--json", "--top-k", "3", TEXT);
        assertThat(r.code()).as(r.err()).isZero();
        Map<?, ?> o = (Map<?, ?>) Json.parse(r.out().strip());
        assertThat(o.get("text")).isEqualTo(TEXT);
        List<?> masks = (List<?>) o.get("masks");
        assertThat(masks).hasSize(3);
        int[] filled = java.util.Arrays.copyOfRange(ids, 1, ids.length - 1);
        for (int i = 0; i < 3; i++) {
            Map<?, ?> m = (Map<?, ?>) masks.get(i);
            int position = positions.get(i), best = ClassifyCommandTest.argmax(logits[position]);
            assertThat(((Number) m.get("position")).intValue()).isEqualTo(position);
            assertThat(((Number) m.get("token_id")).intValue()).isEqualTo(best);
            if (best >= PerceiverTokenizer.SPECIAL_TOKENS)
                assertThat(((Number) m.get("byte")).intValue()).isEqualTo(best - PerceiverTokenizer.SPECIAL_TOKENS);
            List<?> top = (List<?>) m.get("top");
            assertThat(top).hasSize(3);
            Map<?, ?> first = (Map<?, ?>) top.getFirst();
            assertThat(((Number) first.get("index")).intValue()).isEqualTo(best);
            assertThat(((Number) first.get("logit")).floatValue()).isCloseTo(logits[position][best], within(1e-5f));
            assertThat(((Number) first.get("probability")).doubleValue())
                    .isCloseTo(Prediction.softmax(logits[position])[best], within(1e-9));
            filled[position - 1] = best;
        }
        assertThat(o.get("filled")).isEqualTo(PerceiverTokenizer.decode(filled, false, false));

        Cli.Result text = Cli.run("fill-mask", "--model", Cli.golden("masked_lm"), "--top-k", "2", TEXT);
        assertThat(text.code()).isZero();
        assertThat(text.outLines()).hasSize(5);
        assertThat(text.outLines().get(1)).startsWith("       4  " + Json.write(MaskFiller.tokenText(filled[3])));
        assertThat(text.outLines().getLast()).isEqualTo("filled: " + o.get("filled"));
    }

    @Test
    void refusesTextLongerThanTheModelTakes() {
        Cli.Result r = Cli.run("fill-mask", "--model", Cli.golden("masked_lm"), "a[MASK]cdefghijklmnopqrstuvw");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.out()).isEmpty();
        assertThat(r.errLines()).hasSize(2);
        assertThat(r.errLines().getFirst()).startsWith("perceiver fill-mask: a[MASK]cdefghijklmnopqrstuvw: ")
                .contains("23 tokens").contains("at most 22").contains("max_position_embeddings 24");
        assertThat(r.errLines().getLast()).matches("1 texts in [0-9.]+ s \\([0-9.]+/s\\), 1 error");
    }

    @Test
    void refusesTextWithoutMask() {
        Cli.Result r = Cli.run("fill-mask", "--model", Cli.golden("masked_lm"), "nothing hidden");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines().getFirst()).isEqualTo("perceiver fill-mask: nothing hidden: the text has no [MASK] to fill in");
    }
}
