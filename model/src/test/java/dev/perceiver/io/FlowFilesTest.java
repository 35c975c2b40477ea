package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlowFilesTest {
    @TempDir
    Path dir;

    @Test
    void floIsTagWidthHeightThenInterleavedLittleEndianFloats() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Tensor flow = Tensor.of(arena, new float[]{1.5f, -2f, 0.25f, 3f, -0f, 7f}, 1, 3, 2);
            Path file = dir.resolve("f.flo");
            FlowFiles.writeFlo(flow, file);
            byte[] bytes = Files.readAllBytes(file);
            assertThat(new String(bytes, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("PIEH");
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(b.getFloat(0)).isEqualTo(202021.25f);
            assertThat(b.getInt(4)).as("width").isEqualTo(3);
            assertThat(b.getInt(8)).as("height").isEqualTo(1);
            assertThat(bytes).hasSize(12 + 6 * 4);
            assertThat(b.getFloat(12 + 2 * 4)).as("u of pixel 1").isEqualTo(0.25f);
            Tensor back = FlowFiles.readFlo(file, arena);
            assertThat(back.shape()).containsExactly(1, 3, 2);
            assertThat(back.toArray()).isEqualTo(flow.toArray());
        }
    }

    @Test
    void readFloRejectsBadFiles() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path png = Files.write(dir.resolve("x.flo"), new byte[]{(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0, 0, 0, 0, 0});
            assertThatThrownBy(() -> FlowFiles.readFlo(png, arena)).isInstanceOf(IOException.class)
                    .hasMessageContaining("x.flo").hasMessageContaining("not a .flo file");
            ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putFloat(202021.25f).putInt(2).putInt(2);
            Path cut = Files.write(dir.resolve("cut.flo"), b.array());
            assertThatThrownBy(() -> FlowFiles.readFlo(cut, arena)).hasMessageContaining("has 44 bytes, this one 20");
            b.putInt(4, -5);
            Path negative = Files.write(dir.resolve("neg.flo"), b.array());
            assertThatThrownBy(() -> FlowFiles.readFlo(negative, arena)).hasMessageContaining("implausible .flo size -5x2");
        }
    }

    /** Values from a float32 transliteration of Middlebury's computeColor (colorcode.cpp). */
    @ParameterizedTest
    @CsvSource({
            "0, 0, 255 255 255",
            "1, 0, 255 0 0",
            "-1, 0, 0 209 255",
            "0, 1, 255 229 0",
            "0, -1, 87 0 255",
            "0.5, 0, 255 127 127",
            "2, 0, 191 0 0",       // beyond the normalising magnitude: darkened to 3/4
            "0.3, -0.7, 179 60 255",
            "-0.6, 0.2, 93 255 224",
    })
    void colourWheelMatchesMiddlebury(float u, float v, String rgb) {
        try (Arena arena = Arena.ofConfined()) {
            RgbImage img = FlowFiles.colorize(Tensor.of(arena, new float[]{u, v}, 1, 1, 2), 1f);
            assertThat(PillowResizeTest.pixel(img, 0, 0)).isEqualTo(rgb);
        }
    }

    @Test
    void colorizeNormalisesByTheLargestKnownMagnitude() throws IOException {
        int h = 7, w = 9;
        float[] f = new float[h * w * 2];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                f[(y * w + x) * 2] = (x - 4) * 0.75f + (y % 3) * 0.5f;
                f[(y * w + x) * 2 + 1] = (y - 3) * 1.25f - x * 0.25f;
            }
        }
        f[0] = Float.NaN;          // unknown flow: black, and left out of the maximum
        f[(w + 1) * 2] = 2e9f;
        try (Arena arena = Arena.ofConfined()) {
            Tensor flow = Tensor.of(arena, f, h, w, 2);
            RgbImage img = FlowFiles.colorize(flow);
            assertThat(PillowResizeTest.pixel(img, 0, 0)).isEqualTo("0 0 0");
            assertThat(PillowResizeTest.pixel(img, 1, 1)).isEqualTo("0 0 0");
            assertThat(PillowResizeTest.pixel(img, 3, 2)).isEqualTo("209 175 255");
            assertThat(PillowResizeTest.pixel(img, 8, 6)).isEqualTo("255 159 118");
            CRC32 crc = new CRC32();
            crc.update(img.pixels());
            assertThat(crc.getValue()).isEqualTo(3701053101L);
            // Scaling the flow does not change the picture.
            float[] doubled = Arrays.copyOf(f, f.length);
            for (int i = 0; i < doubled.length; i++) doubled[i] *= 2;
            assertThat(FlowFiles.colorize(Tensor.of(arena, doubled, 1, h, w, 2)).pixels()).isEqualTo(img.pixels());
            Path png = dir.resolve("flow.png");
            FlowFiles.writeColorPng(flow, png);
            assertThat(ImageFiles.read(png).pixels()).isEqualTo(img.pixels());
        }
    }

    @Test
    void zeroFlowIsWhiteAndShapesAreChecked() {
        try (Arena arena = Arena.ofConfined()) {
            RgbImage img = FlowFiles.colorize(Tensor.zeros(arena, 2, 3, 2));
            assertThat(img.pixels()).containsOnly((byte) 255);
            assertThatThrownBy(() -> FlowFiles.colorize(Tensor.zeros(arena, 2, 3, 3))).hasMessageContaining("[H, W, 2]");
        }
    }
}
