package dev.perceiver.loader;

import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TorchCheckpointTest {
    private static final long[] S23 = {2, 3}, D23 = {3, 1};

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"image_learned", "masked_lm"})
    void goldenPickleEqualsGoldenSafetensors(String folder) {
        Path golden = TestData.golden(folder);
        try (TorchCheckpoint bin = TorchCheckpoint.open(golden.resolve("pytorch_model.bin"));
             SafeTensorsFile st = SafeTensorsFile.open(golden.resolve("model.safetensors"));
             Arena arena = Arena.ofConfined()) {
            assertThat(bin.names()).hasSize(st.names().size()).containsExactlyInAnyOrderElementsOf(st.names());
            assertThat(bin.metadata()).isEmpty();
            for (String name : st.names()) {
                TensorInfo want = st.info(name), got = bin.info(name);
                assertThat(got.dtype()).as(name).isEqualTo(want.dtype());
                assertThat(got.shape()).as(name).isEqualTo(want.shape());
                if (want.dtype().isFloatingPoint()) {
                    Tensor t = bin.floats(name, arena);
                    assertThat(t.toArray()).as(name).isEqualTo(st.floats(name, arena).toArray());
                    // torch.save aligns records, so weights come straight from the mapping.
                    assertThat(t.segment().isMapped()).as(name).isTrue();
                } else {
                    assertThat(bin.integers(name)).as(name).isEqualTo(st.integers(name));
                }
            }
            // Names keep the pickle's (state_dict's) order.
            assertThat(bin.names()).first().isEqualTo("perceiver.input_preprocessor." + (folder.equals("masked_lm")
                    ? "embeddings.weight" : "convnet_1x1.weight"));
        }
    }

    @Test
    void stridedOffsetSharedAndParameterTensors() throws IOException {
        byte[] pkl = new Pickle().proto(2).op('}').mark()
                .str("m").tensor("FloatStorage", "0", 6, 0, S23, D23)
                .str("m_t").tensor("FloatStorage", "0", 6, 0, new long[]{3, 2}, new long[]{1, 3})
                .str("row1").tensor("FloatStorage", "0", 6, 3, new long[]{3}, new long[]{1})
                .str("col2").tensor("FloatStorage", "0", 6, 2, new long[]{2, 1}, new long[]{3, 1})
                .str("empty").tensor("FloatStorage", "0", 6, 6, new long[]{0, 5}, new long[]{5, 1})
                .str("p").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("HalfStorage", "1", 2, 0, new long[]{2}, new long[]{1})
                .op(0x88).global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                .str("ids").tensor("LongStorage", "2", 2, 0, new long[]{}, new long[]{})
                .str("flags").tensor("BoolStorage", "3", 3, 1, new long[]{2}, new long[]{1})
                .op('u').op('.').bytes();
        Path file = Pickle.torchZip(dir.resolve("m.bin"), "archive", pkl, Map.of(
                "0", floats(1, 2, 3, 4, 5, 6),
                "1", Pickle.le(4).putShort((short) 0x3C00).putShort((short) 0xC000).array(),
                "2", Pickle.le(16).putLong(-7).putLong(9).array(),
                "3", new byte[]{1, 0, 1}), "little");
        try (TorchCheckpoint c = TorchCheckpoint.open(file); Arena arena = Arena.ofConfined()) {
            assertThat(c.names()).containsExactly("m", "m_t", "row1", "col2", "empty", "p", "ids", "flags");
            assertThat(c.floats("m", arena).toArray()).containsExactly(1, 2, 3, 4, 5, 6);
            Tensor t = c.floats("m_t", arena);
            assertThat(t.shape()).containsExactly(3, 2);
            assertThat(t.toArray()).containsExactly(1, 4, 2, 5, 3, 6);
            assertThat(c.floats("row1", arena).toArray()).containsExactly(4, 5, 6);
            assertThat(c.info("row1").byteOffset()).isEqualTo(c.info("m").byteOffset() + 12);
            assertThat(c.floats("col2", arena).toArray()).containsExactly(3, 6);
            assertThat(c.floats("empty", arena).shape()).containsExactly(0, 5);
            assertThat(c.floats("p", arena).toArray()).containsExactly(1f, -2f);
            assertThat(c.info("p").dtype()).isEqualTo(DType.F16);
            assertThat(c.info("ids").shape()).isEmpty();
            assertThat(c.integers("ids")).containsExactly(-7);
            assertThat(c.integers("flags")).containsExactly(0, 1);
            assertThatThrownBy(() -> c.integers("m")).isExactlyInstanceOf(CheckpointException.class)
                    .hasMessageEndingWith("tensor 'm' is F32, not an integer tensor; read it with floats()");
        }
    }

    @Test
    void protocol4OpcodesAndStateDictMetadata() throws IOException {
        Pickle p = new Pickle().proto(4).op(0x95).raw(new byte[8]).op('}').op(0x94).mark()
                .shortStr("w").op(0x94).shortStr("torch._utils").shortStr("_rebuild_tensor_v2").op(0x93).op(0x94)
                .mark().mark().shortStr("storage").shortStr("torch").shortStr("FloatStorage").op(0x93).shortStr("0")
                .shortStr("cpu").integer(6).op('t').op('Q').op(0x94)
                // offset as LONG1, size and stride as TUPLE2/TUPLE1-style tuples
                .op(0x8a).op(1).op(1).integer(5).op(0x85).integer(1).op(0x85).op(0x89)
                .shortStr("collections").shortStr("OrderedDict").op(0x93).op(0x94).op(')').op('R').op('t').op('R')
                .shortStr("w2").op('h').op(2).mark().op('h').op(3).integer(0).integer(2).integer(3).op(0x86)
                .integer(3).integer(1).op(0x86).op(0x89).op('h').op(4).op(')').op('R').op('t').op('R')
                .op('u')
                // _metadata = OrderedDict({"": {"version": 1, "lr": 0.5}}) set by BUILD
                .op('}').mark().shortStr("_metadata").op('h').op(4).op(')').op('R').mark().shortStr("").op('}')
                .shortStr("version").integer(1).op('s').shortStr("lr").op('G')
                .raw(ByteBuffer.allocate(8).putDouble(0.5).array()).op('s').op('u').op('u').op('b').op('.');
        Path file = Pickle.torchZip(dir.resolve("p4.bin"), "model", p.bytes(), Map.of("0", floats(1, 2, 3, 4, 5, 6)), null);
        try (TorchCheckpoint c = TorchCheckpoint.open(file); Arena arena = Arena.ofConfined()) {
            assertThat(c.names()).containsExactly("w", "w2");
            assertThat(c.floats("w", arena).toArray()).containsExactly(2, 3, 4, 5, 6);
            assertThat(c.floats("w2", arena).toArray()).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(c.info("w2").shape()).containsExactly(2, 3);
        }
    }

    @Test
    void rejectsBrokenArchives() throws IOException {
        byte[] golden = Files.readAllBytes(TestData.golden("masked_lm").resolve("pytorch_model.bin"));
        assertRejected(bytes(Arrays.copyOf(golden, golden.length / 2)),
                "zip archive: no zip end-of-central-directory record (truncated or not a zip archive)");
        assertRejected(bytes(Arrays.copyOf(golden, golden.length - 30)),
                "zip archive: no zip end-of-central-directory record");
        assertRejected(bytes(new byte[0]), "not a torch.save zip archive (it does not start with PK\\3\\4)");
        assertRejected(bytes("hello".getBytes(StandardCharsets.US_ASCII)), "not a torch.save zip archive");
        assertRejected(bytes(new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46}),
                "legacy (pre-1.6, non-zip) torch.save format is not supported");

        byte[] ok = stateDict(6, 0, S23, D23);
        assertRejected(Pickle.torchZip(next(), "archive", ok, Map.of("0", floats(1, 2, 3, 4, 5, 6)), "big"),
                "checkpoint was saved big-endian (byteorder 'big'); only little-endian checkpoints are supported");
        assertRejected(Pickle.torchZip(next(), "archive", ok, Map.of("0", floats(1, 2, 3, 4, 5, 6)), "middle"),
                "byteorder record must say 'little' or 'big', found 'middle'");

        Path deflated = next();
        try (OutputStream os = Files.newOutputStream(deflated); ZipOutputStream zip = new ZipOutputStream(os)) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(ok);
            zip.closeEntry();
        }
        assertRejected(deflated, "zip archive: entry 'archive/data.pkl' is compressed (method 8)");

        assertRejected(Pickle.torchZip(next(), "a/b", ok, Map.of(), null),
                "archive has no <name>/data.pkl record, so it is not a torch.save checkpoint (it holds [a/b/data.pkl, a/b/version])");
    }

    @Test
    void rejectsStoragesAndViewsOutsideTheirBytes() throws IOException {
        byte[] six = floats(1, 2, 3, 4, 5, 6);
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 0, S23, D23), Map.of("1", six), null),
                "storage '0' has no record archive/data/0 in the archive");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(100, 0, S23, D23), Map.of("0", six), null),
                "storage '0' claims 100 F32 elements but its record holds 24 bytes");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 4, new long[]{3}, new long[]{1}), Map.of("0", six), null),
                "tensor 'w' (size [3], stride [1], offset 4) reaches element 6 of storage '0', which holds 6");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 0, new long[]{2, 3}, new long[]{4, 1}), Map.of("0", six), null),
                "tensor 'w' (size [2, 3], stride [4, 1], offset 0) reaches element 6 of storage '0', which holds 6");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 7, new long[]{0}, new long[]{1}), Map.of("0", six), null),
                "tensor 'w' (size [0], stride [1], offset 7) reaches element 7 of storage '0', which holds 6");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 0, new long[]{4, 6}, new long[]{0, 1}), Map.of("0", six), null),
                "tensor 'w' (size [4, 6], stride [0, 1], offset 0) has 24 elements but its storage '0' holds 6 (expanded views are not supported)");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 0, new long[]{6}, new long[]{-1}), Map.of("0", six), null),
                "tensor 'w' (size [6], stride [-1], offset 0): negative size, stride or offset");
        assertRejected(Pickle.torchZip(next(), "archive", stateDict(6, 0, new long[]{6}, new long[]{1, 1}), Map.of("0", six), null),
                "tensor 'w' (size [6], stride [1, 1], offset 0): size and stride differ in rank");
        assertRejected(Pickle.torchZip(next(), "archive",
                        stateDict(6, 0, new long[]{1L << 40, 1L << 40}, new long[]{1L << 40, 1}), Map.of("0", six), null),
                "tensor 'w' (size [1099511627776, 1099511627776], stride [1099511627776, 1], offset 0): extent overflows 64 bits");
    }

    @Test
    void rejectsForbiddenAndMalformedPickles() throws IOException {
        assertPickleRejected(new Pickle().proto(2).global("os", "system").str("echo hi").op(0x85).op('R').op('.'),
                "data.pkl: global os.system is not allowed (a state_dict may only name collections.OrderedDict, "
                        + "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch storage classes) (at byte 2, opcode GLOBAL)");
        assertPickleRejected(new Pickle().proto(4).shortStr("builtins").shortStr("eval").op(0x93),
                "data.pkl: global builtins.eval is not allowed");
        assertPickleRejected(new Pickle().proto(2).op(0xff), "data.pkl: unknown pickle opcode 0xff (at byte 2)");
        assertPickleRejected(new Pickle().proto(2).mark().str("os").str("system").op('i'),
                "data.pkl: opcode INST (0x69) is not allowed in a state_dict pickle (at byte 21, opcode INST)");
        assertPickleRejected(new Pickle().proto(2).global("collections", "OrderedDict").op(')').op(0x81),
                "data.pkl: opcode NEWOBJ (0x81) is not allowed in a state_dict pickle");
        assertPickleRejected(new Pickle().proto(2).global("torch", "FloatStorage").op(')').op('R'),
                "data.pkl: global torch.FloatStorage cannot be called (at byte 23, opcode REDUCE)");
        assertPickleRejected(new Pickle().proto(2).global("collections", "OrderedDict").str("x").op(0x85).op('R'),
                "data.pkl: collections.OrderedDict is only supported with no arguments");
        assertPickleRejected(new Pickle().proto(6), "data.pkl: pickle protocol 6 is newer than 5");
        assertPickleRejected(new Pickle().proto(2).op('R'), "data.pkl: stack underflow (at byte 2, opcode REDUCE)");
        assertPickleRejected(new Pickle().proto(2).integer(1).mark().op('.'), "data.pkl: stack underflow (at byte 5, opcode STOP)");
        assertPickleRejected(new Pickle().proto(2).op('t'), "data.pkl: no MARK to pop to");
        assertPickleRejected(new Pickle().proto(2).get(5), "data.pkl: memo entry 5 was never stored");
        assertPickleRejected(new Pickle().proto(2).op('}'), "data.pkl: pickle ends without STOP");
        assertPickleRejected(new Pickle(), "data.pkl: pickle ends without STOP (at byte 0)");
        assertPickleRejected(new Pickle().proto(2).op('X').raw((byte) 100, (byte) 0, (byte) 0, (byte) 0).raw((byte) 'a'),
                "data.pkl: string of 100 bytes runs past the end of the pickle");
        assertPickleRejected(new Pickle().proto(2).op('J').raw((byte) 1), "data.pkl: pickle is truncated");
        assertPickleRejected(new Pickle().proto(2).op(0x8a).op(9), "data.pkl: LONG1 integer of 9 bytes does not fit 64 bits");
        assertPickleRejected(new Pickle().proto(2).op('c').raw("torch".getBytes(StandardCharsets.US_ASCII)),
                "data.pkl: GLOBAL name runs past the end of the pickle");
        assertPickleRejected(new Pickle().proto(2).op('}').op(']').integer(1).op('s'),
                "data.pkl: dict key of type list is not supported");
        assertPickleRejected(new Pickle().proto(2).op(']').integer(1).integer(2).op('s'), "data.pkl: SETITEM(S) needs a dict, found list");
        assertPickleRejected(new Pickle().proto(2).op('}').mark().integer(1).op('u'), "data.pkl: SETITEMS has an odd number (1) of keys and values");
        assertPickleRejected(new Pickle().proto(2).op('}').integer(1).op('a'), "data.pkl: APPEND(S) needs a list, found dict");
        assertPickleRejected(new Pickle().proto(2).op(']').op('}').op('b'), "data.pkl: BUILD is only supported on a dict, found list");
        assertPickleRejected(new Pickle().proto(2).mark().str("file").global("torch", "FloatStorage").str("0").str("cpu")
                .integer(1).op('t').op('Q'), "data.pkl: persistent id must be ('storage', storage class, key, location, numel), found tuple");
        assertPickleRejected(new Pickle().proto(2).global("torch._utils", "_rebuild_tensor_v2").integer(1).op(0x85).op('R'),
                "data.pkl: torch._utils._rebuild_tensor_v2 needs (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])");
        assertPickleRejected(new Pickle().proto(2).op(']').op('.'), "data.pkl holds a list, not a state_dict");
        assertPickleRejected(new Pickle().proto(2).op('N').op('.'), "data.pkl holds a None, not a state_dict");
        assertPickleRejected(new Pickle().proto(2).op('}').str("step").integer(3).op('s').op('.'), "state_dict entry 'step' is not a tensor");
    }

    @Test
    void randomCorruptionEndsInAResultOrACheckpointException() throws IOException {
        byte[] original = Files.readAllBytes(Pickle.torchZip(dir.resolve("good.bin"), "archive",
                stateDict(6, 0, S23, D23), Map.of("0", floats(1, 2, 3, 4, 5, 6)), "little"));
        Random random = new Random(99);
        Path file = dir.resolve("fuzz.bin");
        int opened = 0, rejected = 0;
        for (int round = 0; round < 1500; round++) {
            byte[] b = original.clone();
            for (int i = 1 + random.nextInt(3); i > 0; i--) b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            if (random.nextInt(10) == 0) b = Arrays.copyOf(b, random.nextInt(b.length + 16));
            Files.write(file, b);
            try (TorchCheckpoint c = TorchCheckpoint.open(file); Arena arena = Arena.ofConfined()) {
                opened++;
                for (String name : c.names()) {
                    try {
                        if (c.info(name).dtype().isFloatingPoint()) c.floats(name, arena).toArray();
                        else c.integers(name);
                    } catch (CheckpointException expected) {
                        // e.g. a shape too large for a Tensor
                    }
                }
            } catch (CheckpointException expected) {
                assertThat(expected.file()).isEqualTo(file);
                rejected++;
            }
        }
        assertThat(opened).isGreaterThan(50);
        assertThat(rejected).isGreaterThan(100);
    }

    /** {'w': _rebuild_tensor_v2(FloatStorage '0' of numel, offset, size, stride)} */
    private static byte[] stateDict(long numel, long offset, long[] size, long[] stride) {
        Pickle p = new Pickle().proto(2).op('}').mark().str("w").global("torch._utils", "_rebuild_tensor_v2").mark()
                .storage("FloatStorage", "0", numel).integer(offset);
        p.mark();
        for (long s : size) p.integer(s);
        p.op('t').mark();
        for (long s : stride) p.integer(s);
        return p.op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                .op('u').op('.').bytes();
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = Pickle.le(values.length * 4);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    private void assertPickleRejected(Pickle pickle, String message) throws IOException {
        assertRejected(Pickle.torchZip(next(), "archive", pickle.bytes(), new LinkedHashMap<>(), null), message);
    }

    private void assertRejected(Path file, String message) {
        assertThatThrownBy(() -> TorchCheckpoint.open(file).close())
                .isExactlyInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(file + ": " + message);
    }

    private int files;

    private Path next() {
        return dir.resolve("t" + files++ + ".bin");
    }

    private Path bytes(byte[] content) throws IOException {
        Path file = next();
        Files.write(file, content);
        return file;
    }
}
