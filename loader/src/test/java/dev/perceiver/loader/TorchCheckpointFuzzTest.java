package dev.perceiver.loader;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Coverage-guided fuzzing of the pytorch_model.bin reader: the zip container, the restricted unpickler and the
 * tensor views. Any file opens, and then every tensor reads, or ends in a CheckpointException naming the file.
 *
 * <p>The first byte picks what the rest is: even, a whole file; odd, a pickle that this harness wraps in a
 * well-formed torch.save archive with four 64-byte storages ("0" to "3"), so mutations reach the unpickler
 * instead of breaking the zip.
 */
class TorchCheckpointFuzzTest {
    private static final Path FILE = TestFiles.scratchFile(".bin");
    private static final byte[] STORAGE = new byte[64];
    private static final Map<String, byte[]> STORAGES = Map.of("0", STORAGE, "1", STORAGE, "2", STORAGE, "3", STORAGE);

    static {
        for (int i = 0; i < STORAGE.length; i++) STORAGE[i] = (byte) (i * 37);
    }

    @MethodSource("seeds")
    @FuzzTest
    void torch(byte[] input) {
        if (input == null || input.length == 0) return;
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        if ((input[0] & 1) == 0) TestFiles.write(FILE, rest);
        else wrap(rest);
        try (TorchCheckpoint c = TorchCheckpoint.open(FILE)) {
            Fuzzing.readEveryTensor(c);
        } catch (CheckpointException e) {
            if (!FILE.equals(e.file())) throw new AssertionError("refusal does not name the file: " + e.getMessage(), e);
        }
    }

    private static void wrap(byte[] pickle) {
        try {
            Pickle.torchZip(FILE, "archive", pickle, STORAGES, "little");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden masked-LM checkpoint (shrunk), and pickles of every tensor layout the reader takes, to be wrapped. */
    static List<byte[]> seeds() throws IOException {
        long[] s23 = {2, 3}, d23 = {3, 1};
        byte[] layouts = new Pickle().proto(2).op('}').mark()
                .str("m").tensor("FloatStorage", "0", 6, 0, s23, d23)
                .str("m_t").tensor("FloatStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3})
                .str("row").tensor("FloatStorage", "0", 6, 3, new long[] {3}, new long[] {1})
                .str("empty").tensor("FloatStorage", "0", 6, 6, new long[] {0, 5}, new long[] {5, 1})
                .str("p").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("HalfStorage", "1", 2, 0, new long[] {2}, new long[] {1})
                .op(0x88).global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                .str("ids").tensor("LongStorage", "2", 2, 0, new long[] {}, new long[] {})
                .str("flags").tensor("BoolStorage", "3", 3, 1, new long[] {2}, new long[] {1})
                .op('u').op('.').bytes();
        byte[] memoised = new Pickle().proto(4).op(0x95).raw(new byte[8]).op('}').op(0x94).mark()
                .shortStr("w").op(0x94).shortStr("torch._utils").shortStr("_rebuild_tensor_v2").op(0x93).op(0x94)
                .mark().mark().shortStr("storage").shortStr("torch").shortStr("BFloat16Storage").op(0x93)
                .shortStr("0").shortStr("cpu").integer(6).op('t').op('Q').op(0x94)
                .op(0x8a).op(1).op(1).integer(5).op(0x85).integer(1).op(0x85).op(0x89)
                .shortStr("collections").shortStr("OrderedDict").op(0x93).op(0x94).op(')').op('R').op('t').op('R')
                .shortStr("w2").op('h').op(2).mark().op('h').op(3).integer(0).integer(2).integer(3).op(0x86)
                .integer(3).integer(1).op(0x86).op(0x89).op('h').op(4).op(')').op('R').op('t').op('R')
                .op('u').op('}').mark().shortStr("_metadata").op('h').op(4).op(')').op('R').op('u').op('b').op('.')
                .bytes();
        return List.of(tagged(1, layouts), tagged(1, memoised), tagged(0, shrunkGolden()));
    }

    /**
     * The golden masked-LM archive with its real pickle and records, each record cut to 256 bytes: the format as
     * torch writes it, small enough to mutate quickly (its larger tensors then overrun their storages).
     */
    private static byte[] shrunkGolden() throws IOException {
        Map<String, byte[]> records = new TreeMap<>();
        byte[] pickle = null;
        try (ZipFile zip = new ZipFile(TestData.golden("masked_lm").resolve("pytorch_model.bin").toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                byte[] data = zip.getInputStream(e).readAllBytes();
                String name = e.getName().substring(e.getName().indexOf('/') + 1);
                if (name.equals("data.pkl")) pickle = data;
                else if (name.startsWith("data/"))
                    records.put(name.substring(5), Arrays.copyOf(data, Math.min(256, data.length)));
            }
        }
        Path file = Files.createTempFile("perceiver-seed", ".bin");
        try {
            return Files.readAllBytes(Pickle.torchZip(file, "pytorch_model", pickle, records, "little"));
        } finally {
            Files.delete(file);
        }
    }

    private static byte[] tagged(int mode, byte[] body) {
        byte[] out = new byte[body.length + 1];
        out[0] = (byte) mode;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }
}
