package dev.perceiver.loader;

import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafeTensorsFileTest {
    @TempDir
    Path dir;

    @Test
    void goldenMaskedLmWeights() {
        try (SafeTensorsFile f = SafeTensorsFile.open(TestData.golden("masked_lm").resolve("model.safetensors"));
             Arena arena = Arena.ofConfined()) {
            assertThat(f.names()).hasSize(73).startsWith("embedding_decoder.bias",
                    "perceiver.decoder.decoding_cross_attention.attention.output.dense.bias");
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));

            TensorInfo bias = f.info("embedding_decoder.bias");
            assertThat(bias.dtype()).isEqualTo(DType.F32);
            assertThat(bias.shape()).containsExactly(262);
            Tensor b = f.floats("embedding_decoder.bias", arena);
            assertThat(b.shape()).containsExactly(262);
            assertThat(b.get(0)).isEqualTo(0.16248731315135956f);
            assertThat(b.get(1)).isEqualTo(0.10514526814222336f);
            assertThat(b.get(261)).isEqualTo(0.1278017908334732f);
            // F32 at a float-aligned offset is a view of the mapping, not a copy.
            assertThat(b.segment().isMapped()).isTrue();
            assertThat(b.segment().isReadOnly()).isTrue();

            Tensor latents = f.floats("perceiver.embeddings.latents", arena);
            assertThat(latents.shape()).containsExactly(16, 32);
            assertThat(latents.get(0, 0)).isEqualTo(0.06109839305281639f);
            assertThat(latents.get(0, 1)).isEqualTo(1.6370186805725098f);
            assertThat(latents.get(15, 31)).isEqualTo(1.1820719242095947f);

            Tensor q = f.floats("perceiver.encoder.cross_attention.attention.self.query.weight", arena);
            assertThat(q.shape()).containsExactly(16, 32);
            assertThat(q.get(0, 0)).isEqualTo(-0.1600595861673355f);
            assertThat(q.get(1, 1)).isEqualTo(0.17011643946170807f);
            assertThat(q.get(15, 31)).isEqualTo(0.04644257202744484f);
            assertThat(f.info("perceiver.input_preprocessor.embeddings.weight").shape()).containsExactly(262, 48);
        }
    }

    @Test
    void goldenIntegersAndMetadata() {
        try (SafeTensorsFile f = SafeTensorsFile.open(TestData.golden("inputs").resolve("golden.safetensors"))) {
            assertThat(f.integers("input_ids.1")).startsWith(4, 110, 201, 175, 114, 114, 117, 38, 125, 201, 188);
            assertThat(f.integers("attention_mask.2")).hasSize(64).startsWith(1, 1, 0, 0);
            assertThat(f.metadata().get("texts")).contains("h\\u00e9llo w\\u00f6rld \\u2713");
            assertThat(f.info("pixel_values.image0_640x480.png").shape()).containsExactly(3, 224, 224);
            assertThatThrownBy(() -> f.floats("input_ids.0", Arena.global()))
                    .isExactlyInstanceOf(CheckpointException.class)
                    .hasMessageEndingWith("tensor 'input_ids.0' is I64, not a floating-point tensor; read it with integers()");
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(TestData.golden("image_conv").resolve("model.safetensors"))) {
            String name = "perceiver.input_preprocessor.convnet.batchnorm.num_batches_tracked";
            assertThat(f.info(name).shape()).isEmpty();
            assertThat(f.integers(name)).containsExactly(0);
            assertThatThrownBy(() -> f.integers("perceiver.embeddings.latents"))
                    .isExactlyInstanceOf(CheckpointException.class)
                    .hasMessageEndingWith("tensor 'perceiver.embeddings.latents' is F32, not an integer tensor; read it with floats()");
        }
    }

    @Test
    void everyGoldenFileReadsCompletely() throws IOException {
        try (var folders = Files.list(TestData.golden("masked_lm").getParent())) {
            for (Path folder : folders.filter(Files::isDirectory).toList()) {
                try (var files = Files.list(folder)) {
                    for (Path file : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                        try (SafeTensorsFile f = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
                            assertThat(f.names()).as(file.toString()).isNotEmpty();
                            long bytes = 0;
                            for (String name : f.names()) {
                                TensorInfo info = f.info(name);
                                bytes += info.byteLength();
                                long n = info.dtype().isFloatingPoint() ? f.floats(name, arena).size() : f.integers(name).length;
                                assertThat(n).isEqualTo(info.elements());
                            }
                            assertThat(bytes).isLessThan(Files.size(file));
                        }
                    }
                }
            }
        }
    }

    @Test
    void unknownNameAndClosedCheckpoint() {
        SafeTensorsFile f = SafeTensorsFile.open(TestData.golden("masked_lm").resolve("model.safetensors"));
        assertThatThrownBy(() -> f.info("nope")).isExactlyInstanceOf(CheckpointException.class)
                .hasMessageEndingWith("model.safetensors: no tensor named 'nope'");
        TensorInfo info = f.info("embedding_decoder.bias");
        info.shape()[0] = 1_000_000;
        assertThat(f.info("embedding_decoder.bias").shape()).containsExactly(262);
        f.close();
        f.close();
        assertThatThrownBy(() -> f.floats("embedding_decoder.bias", Arena.global()))
                .isExactlyInstanceOf(CheckpointException.class).hasMessageContaining("checkpoint is closed");
    }

    @Test
    void widensHalfBfloatAndDoubleExactly() throws IOException {
        short[] f16 = {0x3C00, (short) 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x7C00, (short) 0xFC00, 0x7E00, (short) 0x8000};
        short[] bf16 = {0x3F80, (short) 0xC000, 0x0001, 0x7F80, (short) 0xFF80, 0x7FC0, 0x4049};
        double[] f64 = {1.5, -1e300, 1e-50, Math.PI};
        ByteBuffer data = le(f16.length * 2 + bf16.length * 2 + f64.length * 8);
        for (short s : f16) data.putShort(s);
        for (short s : bf16) data.putShort(s);
        for (double d : f64) data.putDouble(d);
        int a = f16.length * 2, b = a + bf16.length * 2, c = b + f64.length * 8;
        Path file = raw("{\"h\":{\"dtype\":\"F16\",\"shape\":[3,3],\"data_offsets\":[0," + a + "]},"
                + "\"bf\":{\"dtype\":\"BF16\",\"shape\":[7],\"data_offsets\":[" + a + "," + b + "]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[2,1,2],\"data_offsets\":[" + b + "," + c + "]}}", data.array());
        try (SafeTensorsFile f = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            Tensor h = f.floats("h", arena);
            assertThat(h.shape()).containsExactly(3, 3);
            assertThat(h.toArray()).containsExactly(1f, -2f, 0x1p-24f, 0x3FFp-24f, 65504f, Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY, Float.NaN, -0f);
            assertThat(Float.floatToRawIntBits(h.get(2, 2))).isEqualTo(0x80000000);
            assertThat(h.segment().isMapped()).isFalse();
            assertThat(f.floats("bf", arena).toArray()).containsExactly(1f, -2f, Float.intBitsToFloat(0x00010000),
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3.140625f);
            assertThat(f.floats("d", arena).toArray()).containsExactly(1.5f, Float.NEGATIVE_INFINITY, 0f, (float) Math.PI);
        }
    }

    @Test
    void widensEveryIntegerType() throws IOException {
        ByteBuffer data = le(8 * 2 + 4 * 2 + 2 * 2 + 2 + 2 + 3);
        data.putLong(Long.MIN_VALUE).putLong(7).putInt(-5).putInt(Integer.MAX_VALUE).putShort((short) -300).putShort((short) 300)
                .put((byte) -128).put((byte) 127).put((byte) 0xFF).put((byte) 1).put((byte) 0).put((byte) 1).put((byte) 2);
        Path file = raw("{\"i64\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"i32\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[16,24]},"
                + "\"i16\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[24,28]},"
                + "\"i8\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[28,30]},"
                + "\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[30,32]},"
                + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[32,35]}}", data.array());
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertThat(f.names()).containsExactly("i64", "i32", "i16", "i8", "u8", "b");
            assertThat(f.integers("i64")).containsExactly(Long.MIN_VALUE, 7);
            assertThat(f.integers("i32")).containsExactly(-5, Integer.MAX_VALUE);
            assertThat(f.integers("i16")).containsExactly(-300, 300);
            assertThat(f.integers("i8")).containsExactly(-128, 127);
            assertThat(f.integers("u8")).containsExactly(255, 1);
            assertThat(f.integers("b")).containsExactly(0, 1, 1);
        }
    }

    @Test
    void misalignedF32IsCopiedAlignedIsMapped() throws IOException {
        ByteBuffer data = le(1 + 8 + 3 + 8);
        data.put((byte) 9).putFloat(1.25f).putFloat(-3f).put(new byte[3]).putFloat(0.5f).putFloat(2f);
        Path file = raw("{\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"odd\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,9]},"
                + "\"pad\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[9,12]},"
                + "\"even\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[12,20]}}", data.array());
        try (SafeTensorsFile f = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            assertThat(f.info("odd").byteOffset() % 4).isNotZero();
            Tensor odd = f.floats("odd", arena);
            assertThat(odd.toArray()).containsExactly(1.25f, -3f);
            assertThat(odd.segment().isMapped()).isFalse();
            assertThat(odd.segment().address() % 4).isZero();
            Tensor even = f.floats("even", arena);
            assertThat(even.toArray()).containsExactly(0.5f, 2f);
            assertThat(even.segment().isMapped()).isTrue();
        }
    }

    @Test
    void emptyHeaderZeroRankAndZeroSizeTensors() throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(raw("{}", new byte[0]))) {
            assertThat(f.names()).isEmpty();
            assertThat(f.metadata()).isEmpty();
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(raw("{\"__metadata__\":{}}    ", new byte[0]))) {
            assertThat(f.names()).isEmpty();
        }
        ByteBuffer data = le(4).putFloat(42f);
        Path file = raw("{\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                + "\"none\":{\"dtype\":\"I64\",\"shape\":[3000000000,0],\"data_offsets\":[0,0]},"
                + "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", data.array());
        try (SafeTensorsFile f = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            assertThat(f.floats("empty", arena).shape()).containsExactly(0, 3);
            assertThat(f.floats("empty", arena).size()).isZero();
            assertThat(f.integers("none")).isEmpty();
            Tensor scalar = f.floats("scalar", arena);
            assertThat(scalar.rank()).isZero();
            assertThat(scalar.get()).isEqualTo(42f);
        }
    }

    @Test
    void dimensionBeyondIntIsRefusedOnlyWhenMadeATensor() throws IOException {
        Path file = raw("{\"wide\":{\"dtype\":\"F32\",\"shape\":[0,3000000000],\"data_offsets\":[0,0]}}", new byte[0]);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertThat(f.info("wide").elements()).isZero();
            assertThatThrownBy(() -> f.floats("wide", Arena.global())).isExactlyInstanceOf(CheckpointException.class)
                    .hasMessageEndingWith("tensor 'wide' has shape [0, 3000000000]; a dimension above 2147483647 does not fit a Tensor");
        }
    }

    private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @Test
    void rejectsTruncatedAndOversizedFiles() throws IOException {
        assertRejected(bytes(new byte[0]), "file is 0 bytes, shorter than the 8-byte header length");
        assertRejected(bytes(new byte[7]), "file is 7 bytes, shorter than the 8-byte header length");
        assertRejected(withLength(-1, "{}"), "header length 18446744073709551615 exceeds the limit of 100000000 bytes");
        assertRejected(withLength(100_000_001, "{}"), "header length 100000001 exceeds the limit of 100000000 bytes");
        assertRejected(withLength(64, "{}"), "header length 64 runs past the end of the file (8 + 64 > 10 bytes)");

        Path good = dir.resolve("good.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            new SafeTensorsWriter().putFloats("w", Tensor.of(arena, new float[]{1, 2, 3}, 3)).write(good);
        }
        byte[] full = Files.readAllBytes(good);
        assertRejected(bytes(Arrays.copyOf(full, full.length - 1)),
                "tensor data ends at byte 12 of the data section but the file holds 11 data bytes after the header (truncated?)");
        assertRejected(bytes(Arrays.copyOf(full, full.length + 4)),
                "tensor data ends at byte 12 of the data section but the file holds 16 data bytes after the header");
    }

    @Test
    void rejectsBrokenLayouts() throws IOException {
        byte[] d16 = new byte[16];
        assertRejected(raw("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", d16),
                "tensor 'b': data_offsets [4, 12] overlap tensor 'a' (which ends at 8)");
        assertRejected(raw("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", d16),
                "tensor 'b': data_offsets begin 12 leaves a hole of 4 bytes after tensor 'a' (which ends at 8)");
        assertRejected(raw("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", d16),
                "tensor 'b': data_offsets begin 8 leaves a hole of 8 bytes after the header (which ends at 0)");
        assertRejected(raw("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[8]),
                "tensor data ends at byte 16 of the data section but the file holds 8 data bytes after the header (truncated?)");
        assertRejected(raw("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775800,9223372036854775804]}}", d16),
                "tensor 'b': data_offsets begin 9223372036854775800 leaves a hole");
        assertRejected(raw("{\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", d16),
                "tensor 'b': data_offsets end 0 is before begin 8");
        assertRejected(raw("{\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'b': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8");
        assertRejected(raw("{\"b\":{\"dtype\":\"I64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'b': shape [4294967296, 4294967296] overflows a 64-bit byte count");
    }

    @Test
    void rejectsBadHeaders() throws IOException {
        byte[] d8 = new byte[8];
        assertRejected(raw("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", d8),
                "tensor 'a': dtype F8_E4M3 is not supported (supported: [F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL])");
        assertRejected(raw("{" + A + "," + A + "}", d8), "header is not valid JSON: at character 54: duplicate key \"a\"");
        assertRejected(raw("[" + A + "]", d8), "header must be a JSON object starting with '{', found '['");
        assertRejected(raw(" {" + A + "}", d8), "header must be a JSON object starting with '{', found ' '");
        assertRejected(raw("", d8), "header must be a JSON object starting with '{', found an empty header");
        assertRejected(raw("{" + A + "} x", d8), "header is not valid JSON: at character 55: expected end of input after the JSON value, found 'x'");
        assertRejected(raw("{\"a\":[1]}", d8), "tensor 'a': expected an object with dtype, shape and data_offsets, found array");
        assertRejected(raw("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", d8), "tensor 'a': dtype must be a string, found null");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", d8),
                "tensor 'a': shape must be an array of non-negative integers, found [-2]");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", d8),
                "tensor 'a': shape must be an array of non-negative integers, found [2.0]");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", d8),
                "tensor 'a': shape must be an array of non-negative integers, found integer 2");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", d8),
                "tensor 'a': data_offsets must be two non-negative integers [begin, end], found [0,8,8]");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", d8),
                "tensor 'a': data_offsets must be two non-negative integers [begin, end], found [0,1.8446744073709552E19]");
        assertRejected(raw("{\"__metadata__\":{\"format\":\"pt\",\"step\":3}," + A + "}", d8),
                "__metadata__ must map strings to strings, but 'step' is integer 3");
        assertRejected(raw("{\"__metadata__\":[\"pt\"]}", new byte[0]), "__metadata__ must be an object of strings, found array");

        byte[] header = ("{\"\u00e9" + A.substring(2)).getBytes(StandardCharsets.UTF_8);
        header[2] = (byte) 0xFF;
        assertRejected(bytes(concat(le(8).putLong(header.length + 1).array(), header, new byte[]{'}'}, d8)),
                "header is not valid UTF-8 (bad byte sequence at file offset 10)");
    }

    @Test
    void randomCorruptionEndsInAResultOrACheckpointException() throws IOException {
        Path good = dir.resolve("good.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            new SafeTensorsWriter().putFloats("w", Tensor.of(arena, new float[]{1, 2, 3, 4, 5, 6}, 2, 3))
                    .putLongs("ids", new long[]{1, 2}, 2).putMetadata("k", "v").write(good);
        }
        byte[] original = Files.readAllBytes(good);
        Random random = new Random(1234);
        Path file = dir.resolve("fuzz.safetensors");
        int opened = 0, rejected = 0;
        for (int round = 0; round < 1500; round++) {
            byte[] b = original.clone();
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                int at = random.nextInt(b.length);
                // Mostly hit the length field and the header, where the rules live.
                if (random.nextBoolean()) at = random.nextInt(Math.min(b.length, 120));
                b[at] = random.nextInt(4) == 0 ? (byte) random.nextInt(256) : (byte) "{}[]\",:0123456789 -e.".charAt(random.nextInt(21));
            }
            if (random.nextInt(10) == 0) b = Arrays.copyOf(b, random.nextInt(b.length + 16));
            Files.write(file, b);
            try (SafeTensorsFile f = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
                opened++;
                for (String name : f.names()) {
                    try {
                        if (f.info(name).dtype().isFloatingPoint()) f.floats(name, arena).toArray();
                        else f.integers(name);
                    } catch (CheckpointException expected) {
                        // e.g. a shape too large for a Tensor
                    }
                }
            } catch (CheckpointException expected) {
                assertThat(expected.file()).isEqualTo(file);
                rejected++;
            }
        }
        // Both outcomes must occur, or the corruption is not reaching the rules.
        assertThat(opened).isGreaterThan(50);
        assertThat(rejected).isGreaterThan(500);
    }

    private void assertRejected(Path file, String message) {
        assertThatThrownBy(() -> SafeTensorsFile.open(file).close())
                .isExactlyInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(file + ": " + message)
                .satisfies(e -> assertThat(((CheckpointException) e).file()).isEqualTo(file));
    }

    /** A safetensors file with this header text, space-padded as writers do so the data starts 8-aligned. */
    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = (header + " ".repeat((8 - header.getBytes(StandardCharsets.UTF_8).length % 8) % 8))
                .getBytes(StandardCharsets.UTF_8);
        return bytes(concat(le(8).putLong(h.length).array(), h, data));
    }

    private Path withLength(long headerLength, String header) throws IOException {
        return bytes(concat(le(8).putLong(headerLength).array(), header.getBytes(StandardCharsets.UTF_8)));
    }

    private int files;

    private Path bytes(byte[] content) throws IOException {
        Path file = dir.resolve("t" + files++ + ".safetensors");
        Files.write(file, content);
        return file;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
