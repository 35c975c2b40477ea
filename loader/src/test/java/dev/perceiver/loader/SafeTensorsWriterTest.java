package dev.perceiver.loader;

import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafeTensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsFloatsOfAnyLayoutLongsAndMetadata() throws IOException {
        Path file = dir.resolve("out.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor m = Tensor.of(arena, new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
            new SafeTensorsWriter()
                    .putFloats("m", m)
                    .putFloats("m_t", m.transpose(0, 1))
                    .putFloats("col", m.slice(1, 1, 2))
                    .putFloats("empty", Tensor.zeros(arena, 0, 4))
                    .putFloats("scalar", Tensor.of(arena, new float[]{-0.5f}))
                    .putLongs("ids", new long[]{Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, 2, 2)
                    .putMetadata("format", "pt")
                    .putMetadata("note", "h\u00e9llo \"quoted\"\n")
                    .write(file);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            assertThat(f.names()).containsExactly("col", "empty", "ids", "m", "m_t", "scalar");
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("note", "h\u00e9llo \"quoted\"\n"));
            assertThat(f.floats("m", arena).toArray()).containsExactly(1, 2, 3, 4, 5, 6);
            Tensor t = f.floats("m_t", arena);
            assertThat(t.shape()).containsExactly(3, 2);
            assertThat(t.toArray()).containsExactly(1, 4, 2, 5, 3, 6);
            assertThat(f.floats("col", arena).shape()).containsExactly(2, 1);
            assertThat(f.floats("col", arena).toArray()).containsExactly(2, 5);
            assertThat(f.info("empty").shape()).containsExactly(0, 4);
            assertThat(f.info("empty").byteLength()).isZero();
            assertThat(f.info("scalar").shape()).isEmpty();
            assertThat(f.floats("scalar", arena).get()).isEqualTo(-0.5f);
            assertThat(f.info("ids").dtype()).isEqualTo(DType.I64);
            assertThat(f.info("ids").shape()).containsExactly(2, 2);
            assertThat(f.integers("ids")).containsExactly(Long.MIN_VALUE, -1, 0, Long.MAX_VALUE);
        }

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat((8 + n) % 8).isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"h\u00e9llo \\\"quoted\\\"\\n\"},"
                + "\"col\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},");
        assertThat(header.strip()).endsWith("}");
        assertThat(header.length() - header.stripTrailing().length()).isBetween(0, 7);
    }

    @Test
    void outputIsDeterministicAndReplacesAtomically() throws IOException {
        Path a = dir.resolve("a.safetensors"), b = dir.resolve("b.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.of(arena, new float[]{1, 2}, 2);
            Tensor y = Tensor.of(arena, new float[]{3}, 1);
            new SafeTensorsWriter().putFloats("y", y).putFloats("x", x).putMetadata("k2", "2").putMetadata("k1", "1").write(a);
            Files.writeString(b, "old contents");
            new SafeTensorsWriter().putMetadata("k1", "1").putFloats("x", x).putMetadata("k2", "2").putFloats("y", y).write(b);
        }
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("a.safetensors", "b.safetensors");
        }
    }

    @Test
    void rewritesAGoldenCheckpointBitForBit() throws IOException {
        Path source = TestData.golden("image_conv").resolve("model.safetensors");
        Path copy = dir.resolve("copy.safetensors");
        try (SafeTensorsFile f = SafeTensorsFile.open(source); Arena arena = Arena.ofConfined()) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String name : f.names()) {
                TensorInfo info = f.info(name);
                if (info.dtype() == DType.F32) w.putFloats(name, f.floats(name, arena));
                else w.putLongs(name, f.integers(name), info.shape());
            }
            f.metadata().forEach(w::putMetadata);
            w.write(copy);
        }
        try (SafeTensorsFile a = SafeTensorsFile.open(source); SafeTensorsFile b = SafeTensorsFile.open(copy);
             Arena arena = Arena.ofConfined()) {
            assertThat(b.names()).containsExactlyInAnyOrderElementsOf(a.names());
            assertThat(b.metadata()).isEqualTo(a.metadata());
            for (String name : a.names()) {
                assertThat(b.info(name).shape()).isEqualTo(a.info(name).shape());
                if (a.info(name).dtype() == DType.F32)
                    assertThat(b.floats(name, arena).toArray()).as(name).isEqualTo(a.floats(name, arena).toArray());
                else assertThat(b.integers(name)).isEqualTo(a.integers(name));
            }
        }
    }

    @Test
    void rejectsMisuse() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.of(arena, new float[]{1}, 1);
            SafeTensorsWriter w = new SafeTensorsWriter().putFloats("x", x);
            assertThatThrownBy(() -> w.putFloats("x", x)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("tensor 'x' was already added");
            assertThatThrownBy(() -> w.putLongs("x", new long[]{1}, 1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> w.putFloats("__metadata__", x)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("__metadata__ is reserved for metadata");
            assertThatThrownBy(() -> w.putLongs("l", new long[]{1, 2, 3}, 2, 2)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("3 values do not fill shape [2, 2]");
            assertThatThrownBy(() -> w.putLongs("l", new long[0], -1, 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("negative dimension in shape [-1, 0]");
            assertThatThrownBy(() -> w.putMetadata("k", null)).isInstanceOf(IllegalArgumentException.class);
            Path nowhere = dir.resolve("missing").resolve("x.safetensors");
            assertThatThrownBy(() -> w.write(nowhere)).isInstanceOf(UncheckedIOException.class)
                    .hasMessageStartingWith("cannot write " + nowhere);
        }
    }
}
