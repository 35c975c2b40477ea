package dev.perceiver.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.InRange;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import dev.perceiver.io.PerceiverTokenizer.Encoding;
import dev.perceiver.io.PerceiverTokenizer.Overflow;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

/**
 * Coverage-guided fuzzing of the byte tokenizer. For any text: tokens decode back to exactly that text; a padded
 * encoding has the requested length, [CLS] first, [SEP] after the last kept token and a mask of ones then zeros;
 * ERROR refuses exactly the texts TRUNCATE cuts. For any bytes as token ids: decoding never fails and agrees with
 * the JDK wherever the bytes are valid UTF-8. Texts with unpaired surrogates and ids outside the vocabulary are
 * refused with an InvalidInputException.
 */
class PerceiverTokenizerFuzzTest {

    @MethodSource("seeds")
    @FuzzTest
    void tokenizer(@NotNull String text, @InRange(min = 2, max = 80) int length, byte @NotNull [] bytes) {
        int[] tokens;
        try {
            tokens = PerceiverTokenizer.tokenize(text);
        } catch (InvalidInputException unpairedSurrogate) {
            if (StandardCharsets.UTF_8.newEncoder().canEncode(text)) throw unpairedSurrogate;
            return;
        }
        String back = PerceiverTokenizer.decode(tokens, false, false);
        if (!back.equals(text)) throw new AssertionError("decode(tokenize(" + quote(text) + ")) = " + quote(back));
        checkPadded(PerceiverTokenizer.encode(text, length, Overflow.TRUNCATE), tokens, length);
        try {
            checkPadded(PerceiverTokenizer.encode(text, length, Overflow.ERROR), tokens, length);
            if (tokens.length > length - 2) throw new AssertionError("ERROR kept an overlong text");
        } catch (InvalidInputException tooLong) {
            if (tokens.length <= length - 2) throw tooLong;
        }
        decodeBytes(bytes);
    }

    private static void checkPadded(Encoding e, int[] tokens, int length) {
        int kept = Math.min(tokens.length, length - 2);
        if (e.length() != length) throw new AssertionError("encoding of length " + e.length() + ", asked for " + length);
        if (e.inputIds()[0] != PerceiverTokenizer.CLS || e.inputIds()[kept + 1] != PerceiverTokenizer.SEP)
            throw new AssertionError("[CLS] or [SEP] misplaced");
        for (int i = 0; i < length; i++) {
            boolean real = i < kept + 2;
            if (e.attentionMask()[i] != (real ? 1 : 0)) throw new AssertionError("mask " + i + " is " + e.attentionMask()[i]);
            if (!real && e.inputIds()[i] != PerceiverTokenizer.PAD) throw new AssertionError("padding id " + e.inputIds()[i]);
            if (i >= 1 && i <= kept && e.inputIds()[i] != tokens[i - 1]) throw new AssertionError("token " + i + " changed");
        }
    }

    private static void decodeBytes(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < ids.length; i++) ids[i] = (bytes[i] & 0xFF) + PerceiverTokenizer.SPECIAL_TOKENS;
        String text = PerceiverTokenizer.decode(ids, true, false);
        try {
            String strict = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            if (!strict.equals(text))
                throw new AssertionError("valid UTF-8 decoded as " + quote(text) + ", not " + quote(strict));
        } catch (CharacterCodingException invalid) {
            if (text.indexOf('\uFFFD') < 0) throw new AssertionError("invalid UTF-8 decoded without U+FFFD: " + quote(text));
        }
        int outside = bytes.length % 2 == 0 ? -1 - bytes.length : PerceiverTokenizer.VOCAB_SIZE + bytes.length;
        try {
            PerceiverTokenizer.decode(new int[] {PerceiverTokenizer.CLS, outside});
            throw new AssertionError("token id " + outside + " was decoded");
        } catch (InvalidInputException expected) {
            // Ids outside the vocabulary are refused.
        }
    }

    private static String quote(String s) {
        return s.codePoints().mapToObj(c -> c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\u{%x}", c))
                .reduce("\"", String::concat) + "\"";
    }

    /** The golden tokenizer texts, with the golden encoding length. */
    static Stream<Arguments> seeds() throws IOException {
        return GoldenInputs.load().texts().stream()
                .map(t -> Arguments.of(t, 64, t.getBytes(StandardCharsets.UTF_8)));
    }
}
