package dev.perceiver.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PillowResizeTest {
    /** Sharp 255 → 0 wraps everywhere, so the negative lobes overshoot and both clipping passes matter. */
    static RgbImage synthetic(int w, int h) {
        byte[] px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = (byte) ((x * 37 + y * 101 + c * 53) % 256);
        return new RgbImage(w, h, px);
    }

    /** Expected values from Pillow 9.4.0: {@code Image.fromarray(a).resize((ow, oh), resample=3)}. */
    @ParameterizedTest
    @CsvSource({
            "37, 23, 50, 11, 1286201627, 71 124 138, 153 90 157, 147 124 156",
            "23, 37, 8, 80, 3610207933, 27 84 151, 62 106 173, 170 79 99",
            "5, 4, 300, 2, 2611575148, 66 117 139, 162 184 120, 82 136 158",
            "640, 3, 7, 3, 472564805, 126 127 126, 128 126 129, 128 128 127",
    })
    void matchesPillowBitForBit(int w, int h, int ow, int oh, long crc, String first, String last, String middle) {
        RgbImage out = PillowResize.bicubic(synthetic(w, h), ow, oh);
        assertThat(out.width()).isEqualTo(ow);
        assertThat(out.height()).isEqualTo(oh);
        assertThat(pixel(out, 0, 0)).isEqualTo(first);
        assertThat(pixel(out, ow - 1, oh - 1)).isEqualTo(last);
        assertThat(pixel(out, ow / 2, oh / 2)).isEqualTo(middle);
        CRC32 c = new CRC32();
        c.update(out.pixels());
        assertThat(c.getValue()).isEqualTo(crc);
    }

    @Test
    void sameSizeIsACopy() {
        RgbImage in = synthetic(9, 7);
        assertThat(PillowResize.bicubic(in, 9, 7).pixels()).isEqualTo(in.pixels());
    }

    @Test
    void kernelHasPillowsShape() {
        assertThat(PillowResize.bicubicFilter(0)).isEqualTo(1.0);
        assertThat(PillowResize.bicubicFilter(1)).isEqualTo(0.0);
        assertThat(PillowResize.bicubicFilter(-0.5)).isEqualTo(0.5625); // (1.5·0.5 − 2.5)·0.25 + 1
        assertThat(PillowResize.bicubicFilter(1.5)).isEqualTo(-0.0625); // a = −0.5 lobe
        assertThat(PillowResize.bicubicFilter(2)).isEqualTo(0.0);
    }

    @Test
    void rejectsEmptyTarget() {
        assertThatThrownBy(() -> PillowResize.bicubic(synthetic(4, 4), 0, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x3");
    }

    static String pixel(RgbImage img, int x, int y) {
        return img.get(x, y, 0) + " " + img.get(x, y, 1) + " " + img.get(x, y, 2);
    }
}
