package dev.perceiver.io;

import dev.perceiver.loader.TestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The PIL conversion rules. Each layout below was also decoded by Pillow 9.4.0 with {@code convert("RGB")} when the
 * rules were written (24 PNG/BMP/GIF variants, all identical); here the expected values follow from the rules.
 */
class ImageFilesTest {
    @TempDir
    Path dir;

    @Test
    void readsGoldenPngAsItsRgbBytes() throws IOException {
        RgbImage img = ImageFiles.read(GoldenInputs.DIR.resolve("frame0_16x12.png"));
        assertThat(img.width()).isEqualTo(16);
        assertThat(img.height()).isEqualTo(12);
        // The golden flow patches hold x/255·2−1 of these bytes; pixel (0, 0) is the centre tap of channel 12..14.
        float[] patches = GoldenInputs.load().floats("flow_patches.frame0_16x12.png+frame1_16x12.png");
        for (int c = 0; c < 3; c++)
            assertThat(img.get(0, 0, c) / 255f * 2f - 1f).isEqualTo(patches[(12 + c) * 12 * 16]);
    }

    @Test
    void sixteenBitGreyIsClippedLikePilModeI() throws IOException {
        BufferedImage g = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        g.getRaster().setSamples(0, 0, 3, 1, 0, new int[]{7, 255, 40000});
        RgbImage img = ImageFiles.read(write(g, "png", "g16.png"));
        assertThat(row(img)).containsExactly(7, 7, 7, 255, 255, 255, 255, 255, 255);
    }

    @Test
    void sixteenBitColourKeepsTheHighByte() throws IOException {
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_USHORT);
        WritableRaster r = cm.createCompatibleWritableRaster(2, 1);
        r.setPixels(0, 0, 2, 1, new int[]{0x12FF, 0x3400, 0xFFFF, 0x0101, 0x00FF, 0x8000, 0x7FFF, 0});
        RgbImage img = ImageFiles.read(write(new BufferedImage(cm, r, false, null), "png", "rgba16.png"));
        assertThat(row(img)).containsExactly(0x12, 0x34, 0xFF, 0x00, 0x80, 0x7F);
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00_10_20_30); // fully transparent: composited on white or black it would change
        argb.setRGB(1, 0, 0x80_C0_A0_90);
        assertThat(row(ImageFiles.read(write(argb, "png", "rgba.png")))).containsExactly(0x10, 0x20, 0x30, 0xC0, 0xA0, 0x90);
    }

    @Test
    void greyIsCopiedToAllChannels() throws IOException {
        BufferedImage g = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSamples(0, 0, 2, 1, 0, new int[]{3, 200});
        // Not getRGB(): that would convert linear grey to sRGB and change the values.
        assertThat(row(ImageFiles.read(write(g, "png", "g8.png")))).containsExactly(3, 3, 3, 200, 200, 200);
        assertThat(row(ImageFiles.read(write(g, "bmp", "g8.bmp")))).containsExactly(3, 3, 3, 200, 200, 200);
    }

    @Test
    void palettesAreLookedUpInPngGifAndBmp() throws IOException {
        // A full 16-entry palette: the JDK's BMP writer fails on shorter ones.
        byte[] reds = Arrays.copyOf(new byte[]{10, 20, (byte) 250}, 16), greens = Arrays.copyOf(new byte[]{11, 21, 31}, 16),
                blues = Arrays.copyOf(new byte[]{12, 22, 32}, 16);
        IndexColorModel palette = new IndexColorModel(4, 16, reds, greens, blues, 0); // index 0 transparent
        BufferedImage p = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_BINARY, palette);
        p.getRaster().setSamples(0, 0, 3, 1, 0, new int[]{2, 0, 1});
        for (String format : new String[]{"png", "gif", "bmp"})
            assertThat(row(ImageFiles.read(write(p, format, "p." + format)))).as(format)
                    .containsExactly(250, 31, 32, 10, 11, 12, 20, 21, 22);
    }

    @Test
    void packedBmpChannelsScaleWithIntegerDivision() throws IOException {
        BufferedImage rgb565 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_565_RGB);
        rgb565.getRaster().setDataElements(0, 0, new short[]{(short) ((4 << 11) | (33 << 5) | 31)});
        rgb565.getRaster().setDataElements(1, 0, new short[]{(short) ((31 << 11) | (1 << 5) | 2)});
        // 4·255/31 = 32.9 → 32 (PIL truncates; Java's ColorModel would round to 33).
        assertThat(row(ImageFiles.read(write(rgb565, "bmp", "c565.bmp")))).containsExactly(32, 133, 255, 255, 4, 16);
    }

    /** A 13x11 4:2:0 JPEG written by Pillow; the CRC is of Pillow 9.4.0's decoded RGB bytes. */
    @Test
    void jpegDecodesLikePillow() throws IOException {
        Path jpg = dir.resolve("t.jpg");
        Files.write(jpg, Base64.getDecoder().decode(JPEG_13X11));
        RgbImage img = ImageFiles.read(jpg);
        assertThat(PillowResizeTest.pixel(img, 0, 0)).isEqualTo("151 125 216");
        assertThat(PillowResizeTest.pixel(img, 12, 10)).isEqualTo("118 94 92");
        CRC32 crc = new CRC32();
        crc.update(img.pixels());
        assertThat(crc.getValue()).isEqualTo(146359899L);
    }

    @Test
    void refusesAbsurdSizesBeforeDecoding() throws IOException {
        // A PNG whose header claims 100000 x 100000 (30 GB of RGB) and whose pixel data is missing.
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(100_000).putInt(100_000).put(new byte[]{8, 2, 0, 0, 0});
        Path png = dir.resolve("huge.png");
        Files.write(png, concat(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, chunk("IHDR", ihdr.array())));
        assertThatThrownBy(() -> ImageFiles.read(png)).isInstanceOf(IOException.class)
                .hasMessageContaining("huge.png").hasMessageContaining("100000x100000").hasMessageContaining("100000000 pixels");
        // Refused from the header: nothing near the image's size is allocated first.
        assertThat(TestMemory.heapAllocatedBy(() -> ImageFiles.read(png))).isLessThan(16L << 20);
    }

    @Test
    void errorsNameTheFileAndTheProblem() throws IOException {
        assertThatThrownBy(() -> ImageFiles.read(dir.resolve("missing.png"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("missing.png");
        Path text = Files.writeString(dir.resolve("notes.png"), "not an image");
        assertThatThrownBy(() -> ImageFiles.read(text)).isInstanceOf(IOException.class)
                .hasMessageContaining("notes.png").hasMessageContaining("not a PNG, JPEG, BMP or GIF");
        BufferedImage rgb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        Path tiff = write(rgb, "tiff", "image.tif");
        assertThatThrownBy(() -> ImageFiles.read(tiff)).isInstanceOf(IOException.class)
                .hasMessageContaining("image.tif").hasMessageContaining("unsupported image format tif");
        byte[] png = Files.readAllBytes(write(rgb, "png", "full.png"));
        Path truncated = Files.write(dir.resolve("cut.png"), Arrays.copyOf(png, png.length / 2));
        assertThatThrownBy(() -> ImageFiles.read(truncated)).isInstanceOf(IOException.class)
                .hasMessageContaining("cut.png").hasMessageContaining("cannot decode png");
        byte[] bmp = Files.readAllBytes(write(rgb, "bmp", "full.bmp"));
        Path cutBmp = Files.write(dir.resolve("cut.bmp"), Arrays.copyOf(bmp, bmp.length - 5));
        assertThatThrownBy(() -> ImageFiles.read(cutBmp)).isInstanceOf(IOException.class)
                .hasMessageContaining("cut.bmp").hasMessageContaining("cannot decode bmp");
        // The JDK's JPEG decoder would only warn and return grey; PIL raises "image file is truncated".
        byte[] jpeg = Base64.getDecoder().decode(JPEG_13X11);
        Path cutJpeg = Files.write(dir.resolve("cut.jpg"), Arrays.copyOf(jpeg, jpeg.length - 60));
        assertThatThrownBy(() -> ImageFiles.read(cutJpeg)).isInstanceOf(IOException.class)
                .hasMessageContaining("cut.jpg").hasMessageContaining("cannot decode jpeg");
    }

    @Test
    void writePngRoundTrips() throws IOException {
        RgbImage img = PillowResizeTest.synthetic(5, 3);
        Path out = dir.resolve("out.png");
        ImageFiles.writePng(img, out);
        assertThat(ImageFiles.read(out).pixels()).isEqualTo(img.pixels());
    }

    private Path write(BufferedImage img, String format, String name) throws IOException {
        Path p = dir.resolve(name);
        assertThat(ImageIO.write(img, format, p.toFile())).as("JDK writer for " + format).isTrue();
        return p;
    }

    private static int[] row(RgbImage img) {
        int[] out = new int[img.width() * 3];
        for (int i = 0; i < out.length; i++) out[i] = img.pixels()[i] & 0xFF;
        return out;
    }

    private static byte[] chunk(String type, byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(type.getBytes());
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(type.getBytes()).put(data)
                .putInt((int) crc.getValue()).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    private static final String JPEG_13X11 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAALAA0DASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCEyKIyZTleTkryDzVYh7lyFZQFwfm56/8A6qW5YtPKCciIDZ7ZUE/rUE7GFkCYG6NScjNc+ZYueIqSoR0jH8Wu/wCn3m9OPL73U//Z";
}
