package dev.perceiver.io;


import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * HF's {@code PerceiverTokenizer} (transformers 4.37): UTF-8 bytes shifted by six special ids. Ids 0 [PAD],
 * 1 [BOS], 2 [EOS], 3 [MASK], 4 [CLS], 5 [SEP]; byte b is id b + 6; 262 ids in all. The six token strings are
 * recognised in the text first, so a literal "[MASK]" becomes id 3. Sequences are {@code [CLS] text [SEP]} and
 * {@code [CLS] a [SEP] b [SEP]}; padding is on the right with id 0 and attention mask 0.
 *
 * <p>Overflow is explicit: {@link Overflow#ERROR} refuses a text that does not fit, {@link Overflow#TRUNCATE}
 * keeps its first {@code length − 2} tokens as HF's {@code truncation=True} does (which may cut a multi-byte
 * character; decoding shows that as U+FFFD). A text that does not fit, a text with an unpaired surrogate and a
 * token id outside the vocabulary are bad inputs: {@link InvalidInputException}.
 */
public final class PerceiverTokenizer {
    public static final int PAD = 0, BOS = 1, EOS = 2, MASK = 3, CLS = 4, SEP = 5;
    /** Ids below this are special tokens; the rest are bytes. */
    public static final int SPECIAL_TOKENS = 6;
    public static final int VOCAB_SIZE = SPECIAL_TOKENS + 256;
    /** The tokenizer's model_max_length and the MLM checkpoint's max_position_embeddings. */
    public static final int MODEL_MAX_LENGTH = 2048;

    private static final String[] TOKEN_STRINGS = {"[PAD]", "[BOS]", "[EOS]", "[MASK]", "[CLS]", "[SEP]"};

    /** What to do with a text longer than the requested length. */
    public enum Overflow { ERROR, TRUNCATE }

    /** Ids and attention mask (1 for real tokens, 0 for padding), of equal length. */
    public record Encoding(int[] inputIds, int[] attentionMask) {
        public Encoding {
            if (inputIds.length != attentionMask.length)
                throw new IllegalArgumentException(inputIds.length + " ids but " + attentionMask.length + " mask entries");
        }

        public int length() {
            return inputIds.length;
        }
    }

    private PerceiverTokenizer() {
    }

    /** The ids of text without [CLS]/[SEP]: special-token strings become their ids, everything else UTF-8 bytes. */
    public static int[] tokenize(String text) {
        IntStream.Builder ids = IntStream.builder();
        int from = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) != '[') continue;
            for (int s = 0; s < TOKEN_STRINGS.length; s++) {
                if (text.startsWith(TOKEN_STRINGS[s], i)) {
                    for (byte b : utf8(text, from, i)) ids.add((b & 0xFF) + SPECIAL_TOKENS);
                    ids.add(s);
                    from = i + TOKEN_STRINGS[s].length();
                    i = from - 1;
                    break;
                }
            }
        }
        for (byte b : utf8(text, from, text.length())) ids.add((b & 0xFF) + SPECIAL_TOKENS);
        return ids.build().toArray();
    }

    /** {@code [CLS] text [SEP]}, unpadded. */
    public static int[] encode(String text) {
        int[] tokens = tokenize(text);
        return withSpecials(tokens, tokens.length);
    }

    /** {@code [CLS] a [SEP] b [SEP]}, unpadded. */
    public static int[] encodePair(String a, String b) {
        int[] ta = tokenize(a), tb = tokenize(b);
        int[] out = new int[ta.length + tb.length + 3];
        out[0] = CLS;
        System.arraycopy(ta, 0, out, 1, ta.length);
        out[ta.length + 1] = SEP;
        System.arraycopy(tb, 0, out, ta.length + 2, tb.length);
        out[out.length - 1] = SEP;
        return out;
    }

    /** {@code [CLS] text [SEP]} padded to exactly length (HF {@code padding="max_length"}). */
    public static Encoding encode(String text, int length, Overflow overflow) {
        if (length < 2) throw new IllegalArgumentException("length " + length + " leaves no room for [CLS] and [SEP]");
        int[] tokens = tokenize(text);
        int keep = tokens.length;
        if (keep > length - 2) {
            if (overflow == Overflow.ERROR)
                throw new InvalidInputException("text of " + tokens.length + " tokens (UTF-8 bytes) does not fit "
                        + length + " positions with [CLS] and [SEP]");
            keep = length - 2;
        }
        return pad(withSpecials(tokens, keep), length);
    }

    /** Each text as {@link #encode(String, int, Overflow)}: a batch of equal length. */
    public static List<Encoding> encodeBatch(List<String> texts, int length, Overflow overflow) {
        List<Encoding> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(encode(t, length, overflow));
        return out;
    }

    /** Each text padded to the longest in the batch (HF {@code padding=True}). */
    public static List<Encoding> encodeBatchPadToLongest(List<String> texts) {
        List<int[]> ids = new ArrayList<>(texts.size());
        int longest = 0;
        for (String t : texts) {
            int[] e = encode(t);
            ids.add(e);
            longest = Math.max(longest, e.length);
        }
        List<Encoding> out = new ArrayList<>(ids.size());
        for (int[] e : ids) out.add(pad(e, longest));
        return out;
    }

    /** ids padded on the right to length, with its attention mask. */
    public static Encoding pad(int[] ids, int length) {
        if (ids.length > length) throw new IllegalArgumentException(ids.length + " ids do not fit length " + length);
        int[] padded = new int[length], mask = new int[length];
        System.arraycopy(ids, 0, padded, 0, ids.length);
        for (int i = 0; i < ids.length; i++) mask[i] = 1;
        return new Encoding(padded, mask);
    }

    /** HF 4.37's default decode: special tokens kept as their strings, tokenization spaces cleaned up. */
    public static String decode(int[] ids) {
        return decode(ids, false, true);
    }

    /**
     * Ids back to text as HF does: special ids become their strings (or are skipped), the byte string is decoded as
     * UTF-8 with U+FFFD per invalid sequence (Python's errors="replace"), then, if cleanUpSpaces, HF's
     * clean_up_tokenization removes the space before . ? ! , and English contractions.
     */
    public static String decode(int[] ids, boolean skipSpecialTokens, boolean cleanUpSpaces) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= VOCAB_SIZE)
                throw new InvalidInputException("token id " + id + " is outside the vocabulary [0, " + VOCAB_SIZE + ")");
            if (id >= SPECIAL_TOKENS) bytes.write(id - SPECIAL_TOKENS);
            else if (!skipSpecialTokens) bytes.writeBytes(TOKEN_STRINGS[id].getBytes(StandardCharsets.US_ASCII));
        }
        String text = decodeUtf8(bytes.toByteArray());
        return cleanUpSpaces ? cleanUpTokenization(text) : text;
    }

    private static int[] withSpecials(int[] tokens, int keep) {
        int[] out = new int[keep + 2];
        out[0] = CLS;
        System.arraycopy(tokens, 0, out, 1, keep);
        out[keep + 1] = SEP;
        return out;
    }

    private static byte[] utf8(String text, int from, int to) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text, from, to));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            // Python's str.encode("utf-8") refuses lone surrogates too.
            throw new InvalidInputException("text has an unpaired UTF-16 surrogate between characters " + from + " and " + to);
        }
    }

    /**
     * UTF-8 with one U+FFFD per maximal invalid subsequence, as Python's decoder does. The JDK's decoder differs for
     * encoded surrogates (ED A0 80 gives one U+FFFD there, three in Python), hence this.
     */
    static String decodeUtf8(byte[] b) {
        StringBuilder out = new StringBuilder(b.length);
        int i = 0;
        while (i < b.length) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            // Length and allowed range of the second byte, from the Unicode table of well-formed sequences.
            int need, lo = 0x80, hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
            else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) lo = 0xA0;
                if (b0 == 0xED) hi = 0x9F;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) lo = 0x90;
                if (b0 == 0xF4) hi = 0x8F;
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            for (int k = 0; k < need; k++, j++) {
                int bk = j < b.length ? b[j] & 0xFF : -1;
                if (bk < (k == 0 ? lo : 0x80) || bk > (k == 0 ? hi : 0xBF)) break;
                cp = cp << 6 | (bk & 0x3F);
            }
            if (j - i == need + 1) out.appendCodePoint(cp);
            else out.append('\uFFFD'); // the valid prefix i..j-1 is one maximal subpart; resume at the offending byte
            i = j;
        }
        return out.toString();
    }

    /** transformers' clean_up_tokenization, replacement by replacement. */
    private static String cleanUpTokenization(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
    }
}
