package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageProcessorTest {
    private final ImageProcessor processor = ImageProcessor.perceiverDefaults();

    /** The reference PerceiverImageProcessor output (Pillow 9.4.0); the port is bit-exact, so the bound is loose. */
    @ParameterizedTest
    @ValueSource(strings = {"image0_640x480.png", "image1_300x500.png", "image2_224x224.png", "image3_999x257.png",
            "image4_48x64.png"})
    void matchesGoldenPixelValues(String name) throws IOException {
        float[] want = GoldenInputs.load().floats("pixel_values." + name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor got = processor.preprocess(ImageFiles.read(GoldenInputs.DIR.resolve(name)), arena);
            assertThat(got.shape()).containsExactly(3, 224, 224);
            double maxError = maxAbsDiff(got.toArray(), want);
            System.out.printf("pixel_values.%s: max abs error %.3g%n", name, maxError);
            assertThat(maxError).isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void batchStacksSingleImages() throws IOException {
        List<RgbImage> images = List.of(ImageFiles.read(GoldenInputs.DIR.resolve("image4_48x64.png")),
                ImageFiles.read(GoldenInputs.DIR.resolve("image1_300x500.png")));
        try (Arena arena = Arena.ofConfined()) {
            Tensor batch = processor.preprocess(images, arena);
            assertThat(batch.shape()).containsExactly(2, 3, 224, 224);
            for (int b = 0; b < 2; b++)
                assertThat(batch.select(0, b).toArray()).isEqualTo(processor.preprocess(images.get(b), arena).toArray());
            Tensor files = processor.preprocessFiles(List.of(GoldenInputs.DIR.resolve("image4_48x64.png"),
                    GoldenInputs.DIR.resolve("image1_300x500.png")), arena);
            assertThat(files.toArray()).isEqualTo(batch.toArray());
        }
    }

    @Test
    void cropKeepsSevenEighthsOfTheShorterSideAtFloorOffsets() {
        RgbImage img = PillowResizeTest.synthetic(640, 480);
        RgbImage crop = processor.centerCrop(img);
        assertThat(crop.width()).isEqualTo(420); // int(0.875 * 480)
        assertThat(crop.height()).isEqualTo(420);
        assertThat(PillowResizeTest.pixel(crop, 0, 0)).isEqualTo(PillowResizeTest.pixel(img, 110, 30));
        RgbImage odd = processor.centerCrop(PillowResizeTest.synthetic(999, 257));
        assertThat(odd.width()).isEqualTo(224); // int(224.875)
        assertThat(PillowResizeTest.pixel(odd, 0, 0)).isEqualTo(PillowResizeTest.pixel(PillowResizeTest.synthetic(999, 257), 387, 16));
    }

    /** A crop larger than the image (size > crop_size) is zero outside it, as HF's center_crop pads; values from HF. */
    @Test
    void cropLargerThanImageIsZeroPadded() {
        ImageProcessor zoomOut = new ImageProcessor(8, 8, 4, 4, new double[]{0, 0, 0}, new double[]{1, 1, 1});
        RgbImage crop = zoomOut.centerCrop(PillowResizeTest.synthetic(5, 3));
        int[][] want = {{0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, {0, 0, 37, 74, 111, 148}, {0, 101, 138, 175, 212, 249},
                {0, 202, 239, 20, 57, 94}, {0, 0, 0, 0, 0, 0}};
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++) assertThat(crop.get(x, y, 0)).as("(%d, %d)", x, y).isEqualTo(want[y][x]);
    }

    @Test
    void normalisesWithFloat32MeanAndStd() {
        byte[] white = new byte[4 * 4 * 3];
        java.util.Arrays.fill(white, (byte) 255);
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = new ImageProcessor(2, 2, 2, 2, new double[]{0.485, 0.456, 0.406}, new double[]{0.229, 0.224, 0.225})
                    .preprocess(new RgbImage(4, 4, white), arena);
            assertThat(t.get(0, 0, 0)).isEqualTo((1f - 0.485f) / 0.229f);
            assertThat(t.get(2, 1, 1)).isEqualTo((1f - 0.406f) / 0.225f);
        }
    }

    /** do_center_crop false resizes the whole image; do_resize false only crops and needs the crop at size. */
    @Test
    void cropAndResizeCanEachBeTurnedOff() {
        RgbImage img = PillowResizeTest.synthetic(6, 4);
        double[] zero = {0, 0, 0}, one = {1, 1, 1};
        RgbImage noCrop = new ImageProcessor(3, 3, 4, 4, zero, one, false, true).cropAndResize(img);
        assertThat(noCrop.pixels()).isEqualTo(PillowResize.bicubic(img, 3, 3).pixels());
        ImageProcessor cropOnly = new ImageProcessor(3, 3, 4, 4, zero, one, true, false);
        assertThat(cropOnly.cropAndResize(img).pixels()).isEqualTo(cropOnly.centerCrop(img).pixels());
        assertThatThrownBy(() -> new ImageProcessor(2, 2, 2, 2, zero, one, false, false).cropAndResize(img))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not 2x2").hasMessageContaining("do_resize");
    }

    /**
     * Tiny images are cropped and resized up as HF 4.37's processor does them: CRCs of its 224x224 uint8 image before
     * rescaling (centre crop by numpy slicing, Pillow 9.4.0 resize), computed for these synthetic images. 7x3 is HF
     * called with input_data_format="channels_last"; without it HF takes the 3 rows for channels and transposes.
     */
    @ParameterizedTest
    @CsvSource({"2, 2, 2443232460, 0 53 106", "3, 2, 2155894426, 37 90 143", "2, 5, 339976342, 202 255 52",
            "5, 2, 3220357375, 74 127 180", "4, 4, 3819869660, 139 191 243", "3, 7, 3943997180, 143 131 122",
            "7, 3, 3524522971, 144 131 121"})
    void tinyImagesAreResizedUpAsTheReferenceDoes(int w, int h, long crc, String middle) {
        RgbImage out = processor.cropAndResize(PillowResizeTest.synthetic(w, h));
        assertThat(out.width()).isEqualTo(224);
        assertThat(out.height()).isEqualTo(224);
        assertThat(PillowResizeTest.pixel(out, 112, 112)).isEqualTo(middle);
        CRC32 c = new CRC32();
        c.update(out.pixels());
        assertThat(c.getValue()).isEqualTo(crc);
    }

    /** HF fails on these (its crop is empty, and Pillow cannot make an image of it); here they get a clear refusal. */
    @ParameterizedTest
    @CsvSource({"1, 1", "5, 1", "1, 5"})
    void refusesImagesWhoseCropWouldBeEmpty(int w, int h) {
        assertThatThrownBy(() -> processor.centerCrop(PillowResizeTest.synthetic(w, h)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(w + "x" + h + " image is too small: its centre crop (224/256 of the shorter side) would be 0x0"
                        + " pixels; the shorter side must be at least 2 pixels");
        assertThatThrownBy(() -> new ImageProcessor(10, 10, 40, 40, new double[3], new double[]{1, 1, 1})
                .centerCrop(PillowResizeTest.synthetic(3, 9))).hasMessageEndingWith("must be at least 4 pixels");
    }

    static double maxAbsDiff(float[] got, float[] want) {
        assertThat(got).hasSameSizeAs(want);
        double max = 0;
        for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs((double) got[i] - want[i]));
        return max;
    }
}
