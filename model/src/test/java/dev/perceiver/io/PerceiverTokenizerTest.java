package dev.perceiver.io;

import dev.perceiver.io.PerceiverTokenizer.Encoding;
import dev.perceiver.io.PerceiverTokenizer.Overflow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PerceiverTokenizerTest {
    @Test
    void matchesGoldenIdsAndMasks() throws IOException {
        GoldenInputs golden = GoldenInputs.load();
        List<String> texts = golden.texts();
        assertThat(texts).hasSize(5).contains("fill [MASK][MASK] here", "");
        for (int n = 0; n < texts.size(); n++) {
            Encoding e = PerceiverTokenizer.encode(texts.get(n), 64, Overflow.ERROR);
            assertThat(toLongs(e.inputIds())).as("input_ids.%d", n).containsExactly(golden.longs("input_ids." + n));
            assertThat(toLongs(e.attentionMask())).as("attention_mask.%d", n).containsExactly(golden.longs("attention_mask." + n));
        }
    }

    /** The vectors of transformers' test_tokenization_perceiver.py (spec §7.4). */
    @Test
    void matchesReferenceTestVectors() {
        int[] unicode = PerceiverTokenizer.encode("Unicode €.");
        assertThat(unicode).containsExactly(4, 91, 116, 111, 105, 117, 106, 107, 38, 232, 136, 178, 52, 5);
        assertThat(PerceiverTokenizer.decode(unicode)).isEqualTo("[CLS]Unicode €.[SEP]");
        assertThat(PerceiverTokenizer.encode("e è é ê ë"))
                .containsExactly(4, 107, 38, 201, 174, 38, 201, 175, 38, 201, 176, 38, 201, 177, 5);
        assertThat(PerceiverTokenizer.decode(new int[]{178})).isEqualTo("\uFFFD");

        List<Encoding> batch = PerceiverTokenizer.encodeBatchPadToLongest(
                List.of("A long paragraph for summarization.", "Another paragraph for summarization."));
        assertThat(batch).extracting(Encoding::length).containsExactly(38, 38);
        assertThat(batch.get(0).inputIds()).containsExactly(4, 71, 38, 114, 117, 116, 109, 38, 118, 103, 120, 103, 109,
                120, 103, 118, 110, 38, 108, 117, 120, 38, 121, 123, 115, 115, 103, 120, 111, 128, 103, 122, 111, 117,
                116, 52, 5, 0);
        assertThat(batch.get(0).attentionMask()[36]).isEqualTo(1);
        assertThat(batch.get(0).attentionMask()[37]).isEqualTo(0);
        assertThat(batch.get(1).attentionMask()).containsOnly(1);
    }

    @Test
    void specialTokenStringsAreSplitOutEverywhere() {
        assertThat(PerceiverTokenizer.tokenize("[MASK]")).containsExactly(3);
        assertThat(PerceiverTokenizer.tokenize("a[PAD][BOS][EOS][CLS][SEP]b")).containsExactly(103, 0, 1, 2, 4, 5, 104);
        // Near misses stay bytes: lower case, a missing bracket.
        assertThat(PerceiverTokenizer.tokenize("[mask][MASK")).containsExactly(97, 115, 103, 121, 113, 99, 97, 83, 71, 89, 81);
        assertThat(PerceiverTokenizer.tokenize("")).isEmpty();
    }

    @Test
    void pairsAreClsASepBSep() {
        assertThat(PerceiverTokenizer.encodePair("a", "bc")).containsExactly(4, 103, 5, 104, 105, 5);
    }

    @Test
    void overflowIsAnErrorOrAnExplicitTruncation() {
        assertThatThrownBy(() -> PerceiverTokenizer.encode("abcdef", 5, Overflow.ERROR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("6 tokens").hasMessageContaining("5 positions");
        Encoding cut = PerceiverTokenizer.encode("abcdef", 5, Overflow.TRUNCATE);
        assertThat(cut.inputIds()).containsExactly(4, 103, 104, 105, 5);
        assertThat(cut.attentionMask()).containsOnly(1);
        // Truncation counts bytes and may split a character, as HF's does.
        assertThat(PerceiverTokenizer.decode(PerceiverTokenizer.encode("a€", 4, Overflow.TRUNCATE).inputIds(), true, false))
                .isEqualTo("a\uFFFD");
        assertThat(PerceiverTokenizer.encode("ab", 4, Overflow.ERROR).inputIds()).containsExactly(4, 103, 104, 5);
    }

    @Test
    void decodeSkipsSpecialsAndCleansUpLikeTransformers437() {
        int[] ids = PerceiverTokenizer.encode("fill [MASK] here , it 's done !");
        assertThat(PerceiverTokenizer.decode(ids)).isEqualTo("[CLS]fill [MASK] here, it's done![SEP]");
        assertThat(PerceiverTokenizer.decode(ids, true, false)).isEqualTo("fill  here , it 's done !");
        assertThat(PerceiverTokenizer.decode(PerceiverTokenizer.encode("héllo wörld ✓"), true, true)).isEqualTo("héllo wörld ✓");
        // Special-token strings join the byte string before UTF-8 decoding, so they can break a character.
        assertThat(PerceiverTokenizer.decode(new int[]{0xE2 + 6, PerceiverTokenizer.SEP})).isEqualTo("\uFFFD[SEP]");
    }

    /** Python's bytes.decode("utf-8", "replace") results. */
    @ParameterizedTest
    @CsvSource({
            "eda080, fffd fffd fffd",
            "f09f9841, fffd 0041",
            "e228a1, fffd 0028 fffd",
            "c0af, fffd fffd",
            "f4908080, fffd fffd fffd fffd",
            "e080af, fffd fffd fffd",
            "f09080, fffd",
            "f09f9880, d83d de00",
            "c3a9, 00e9",
    })
    void replacesInvalidUtf8LikePython(String hex, String want) {
        String got = PerceiverTokenizer.decodeUtf8(HexFormat.of().parseHex(hex));
        StringBuilder units = new StringBuilder();
        for (char c : got.toCharArray()) units.append(units.isEmpty() ? "" : " ").append(String.format("%04x", (int) c));
        assertThat(units.toString()).isEqualTo(want);
    }

    @Test
    void rejectsWhatPythonRejects() {
        assertThatThrownBy(() -> PerceiverTokenizer.tokenize("a\uD800b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unpaired");
        assertThatThrownBy(() -> PerceiverTokenizer.decode(new int[]{262})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("262");
        assertThatThrownBy(() -> PerceiverTokenizer.encode("x", 1, Overflow.TRUNCATE)).isInstanceOf(IllegalArgumentException.class);
    }

    private static long[] toLongs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }
}
