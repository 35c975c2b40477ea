package dev.perceiver.cli;

import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** fill-mask and classify-text over many texts in one process: arguments, --input FILE and stdin. */
class TextCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void classifyTextGivesTheLibrarysLogitsForEachText() {
        String[] texts = {"a good film", "bad", "héllo wörld"};
        Cli.Result r = Cli.run("classify-text", "--model", Cli.golden("sequence_classification"), "--json", "--batch", "2",
                texts[0], texts[1], texts[2]);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).hasSize(3);
        for (int t = 0; t < texts.length; t++) {
            Map<?, ?> line = (Map<?, ?>) Json.parse(r.outLines().get(t));
            assertThat(line.get("text")).isEqualTo(texts[t]);
            List<?> top = (List<?>) line.get("top");
            assertThat(top).hasSize(3);
            float[] want = libraryLogits("sequence_classification", texts[t])[0];
            for (Object o : top) {
                Map<?, ?> p = (Map<?, ?>) o;
                int index = ((Long) p.get("index")).intValue();
                assertThat(p.get("label")).isEqualTo("LABEL_" + index);
                assertThat((Double) p.get("logit")).isCloseTo(want[index], within(1e-5));
            }
        }
        Cli.Result text = Cli.run("classify-text", "--model", Cli.golden("sequence_classification"), "--top-k", "1", "bad");
        assertThat(text.outLines()).hasSize(2);
        assertThat(text.outLines().get(0)).isEqualTo("bad");
        assertThat(text.outLines().get(1)).matches("  [01]\\.[0-9]{4}  LABEL_[0-2] \\([0-2]\\)");
        assertThat(text.errLines()).singleElement().asString().matches("1 texts in [0-9.]+ s \\([0-9.]+/s\\), 0 errors");
    }

    @Test
    void fillMaskReadsLinesFromAFileOrStdinAndWritesJsonLines() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes("hello [MASK]orld\n\nno mask here\r\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] {'a', 'b', (byte) 0xC3, '[', 'M', 'A', 'S', 'K', ']', '\n'}); // 0xC3 starts a 2-byte sequence
        bytes.writeBytes("x[MASK]y".getBytes(StandardCharsets.UTF_8)); // no final newline
        Path file = Files.write(tmp.resolve("texts.txt"), bytes.toByteArray());
        for (boolean stdin : new boolean[] {false, true}) {
            Cli.Result r = stdin
                    ? Cli.runWithStdin(bytes.toByteArray(), "fill-mask", "--model", Cli.golden("masked_lm"), "--json", "--input", "-")
                    : Cli.run("fill-mask", "--model", Cli.golden("masked_lm"), "--json", "--input", file.toString());
            String source = stdin ? "-" : file.toString();
            assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
            List<Map<?, ?>> lines = r.outLines().stream().<Map<?, ?>>map(l -> (Map<?, ?>) Json.parse(l)).toList();
            assertThat(lines.stream().<Object>map(l -> l.get("line")).toList()).containsExactly(1L, 3L, 4L, 5L);
            assertThat(lines.get(1)).isEqualTo(Map.of("line", 3L, "error", "the text has no [MASK] to fill in"));
            assertThat(lines.get(0).get("text")).isEqualTo("hello [MASK]orld");
            assertThat(lines.get(2).get("text")).isEqualTo("ab\uFFFD[MASK]");
            assertThat((List<?>) lines.get(3).get("masks")).hasSize(1);
            // The byte the CLI predicts is the library's argmax at the [MASK]'s position ([CLS] is position 0).
            float[][] logits = libraryLogits("masked_lm", "x[MASK]y");
            int best = 0;
            for (int v = 1; v < logits[2].length; v++) if (logits[2][v] > logits[2][best]) best = v;
            assertThat(((Map<?, ?>) ((List<?>) lines.get(3).get("masks")).getFirst()).get("token_id")).isEqualTo((long) best);
            assertThat(r.errLines()).hasSize(2);
            assertThat(r.errLines().getFirst()).isEqualTo("perceiver: warning: --input " + source
                    + ": line 4: invalid UTF-8 at byte offset 34 (byte 2 of the line); read as U+FFFD");
            assertThat(r.errLines().getLast()).matches("4 texts in [0-9.]+ s \\([0-9.]+/s\\), 1 error");
        }
    }

    @Test
    void textsAreGivenOneWayOnly() {
        assertThat(Cli.failsWith(Main.USAGE, "fill-mask", "--model", Cli.golden("masked_lm"), "--input", "-", "a[MASK]"))
                .contains("either as (quoted) arguments or with --input FILE");
        assertThat(Cli.failsWith(Main.BAD_INPUT, "classify-text", "--model", Cli.golden("sequence_classification"),
                "--input", tmp.resolve("none.txt").toString())).endsWith("--input " + tmp.resolve("none.txt") + ": no such file\n");
    }

    /** The model's logits for [CLS] text [SEP] padded to max_position_embeddings, through the library alone. */
    static float[][] libraryLogits(String model, String text) {
        try (Perceiver m = Perceiver.load(Cli.GOLDEN.resolve(model), new Perceiver.Options(1, "cpu"));
             Arena arena = Arena.ofConfined()) {
            int length = m.config().maxPositionEmbeddings();
            PerceiverTokenizer.Encoding enc = PerceiverTokenizer.encode(text, length, PerceiverTokenizer.Overflow.ERROR);
            long[] ids = new long[length];
            float[] mask = new float[length];
            for (int i = 0; i < length; i++) {
                ids[i] = enc.inputIds()[i];
                mask[i] = enc.attentionMask()[i];
            }
            Tensor logits = m.forward(PerceiverInputs.ofTokens(LongTensor.of(ids, 1, length))
                    .attentionMask(Tensor.of(arena, mask, 1, length))).logitsTensor().select(0, 0);
            float[][] out = new float[logits.dim(0)][];
            if (logits.shape().length == 1) return new float[][] {logits.toArray()};
            for (int p = 0; p < out.length; p++) out[p] = logits.select(0, p).toArray();
            return out;
        }
    }
}
