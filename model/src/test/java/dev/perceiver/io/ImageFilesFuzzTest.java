package dev.perceiver.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.perceiver.loader.TestFiles;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.params.provider.MethodSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzzing of the image path: any bytes decode (PNG, JPEG, BMP, GIF) into an image the Perceiver
 * image processor turns into finite pixel values [3, 224, 224], or end in an IOException naming the file (or an
 * InvalidInputException for an image too small to crop). Seeds are the golden input images and re-encodings of one.
 */
class ImageFilesFuzzTest {
    private static final Path FILE = TestFiles.scratchFile(".img");
    private static final ImageProcessor PROCESSOR = ImageProcessor.perceiverDefaults();
    // Normalised values lie between (0 - mean) / std and (1 - mean) / std of some channel.
    private static final float LOWEST = (0 - 0.485f) / 0.229f, HIGHEST = (1 - 0.406f) / 0.225f;

    @MethodSource("seeds")
    @FuzzTest
    void image(byte[] bytes) {
        if (bytes == null) return;
        TestFiles.write(FILE, bytes);
        RgbImage image;
        try {
            image = ImageFiles.read(FILE);
        } catch (IOException refused) {
            FuzzFiles.requireNamed(refused, FILE);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor pixels = PROCESSOR.preprocess(image, arena);
            if (!Arrays.equals(pixels.shape(), new int[] {3, 224, 224}))
                throw new AssertionError(image + " preprocessed to " + pixels);
            for (float v : pixels.toArray())
                if (!(v >= LOWEST && v <= HIGHEST)) throw new AssertionError(image + " gave pixel value " + v);
        } catch (InvalidInputException tooSmall) {
            // An image whose centre crop is empty: a typed refusal.
        }
    }

    /** The small golden PNGs, and one of them re-encoded in every format and colour layout the reader takes. */
    static List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        for (String name : List.of("frame0_16x12.png", "frame1_16x12.png", "image4_48x64.png"))
            seeds.add(Files.readAllBytes(GoldenInputs.DIR.resolve(name)));
        BufferedImage frame = ImageIO.read(GoldenInputs.DIR.resolve("frame0_16x12.png").toFile());
        for (String format : List.of("jpeg", "bmp", "gif"))
            seeds.add(encode(convert(frame, BufferedImage.TYPE_3BYTE_BGR), format));
        for (int type : new int[] {BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY,
                BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_BYTE_BINARY})
            seeds.add(encode(convert(frame, type), "png"));
        seeds.add(encode(convert(frame, BufferedImage.TYPE_USHORT_565_RGB), "bmp"));
        return seeds;
    }

    private static BufferedImage convert(BufferedImage src, int type) {
        BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), type);
        out.getGraphics().drawImage(src, 0, 0, null);
        return out;
    }

    private static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) throw new IOException("no " + format + " writer for image type " + img.getType());
        return out.toByteArray();
    }
}
