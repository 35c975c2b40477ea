package dev.perceiver.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * CMYK and YCCK JPEGs become the RGB Pillow's {@code Image.open(f).convert("RGB")} gives. The committed 16x12 files:
 * {@code cmyk_16x12.jpg} written by Pillow 9.4 (Adobe marker, transform 0, inverted samples as Pillow writes them),
 * {@code ycck_16x12.jpg} written by the JDK's JPEG writer with an Adobe marker of transform 2 (YCCK); the CRCs are of
 * Pillow 9.4.0's RGB bytes for each. Where Pillow is installed, new files are also compared with it live.
 */
class CmykJpegTest {
    private static final List<String> PYTHONS = List.of("/usr/bin/python3", "python3");

    @TempDir
    Path dir;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(CmykJpegTest.class.getResource("cmyk/" + name).toURI());
    }

    private static long crc(RgbImage img) {
        CRC32 crc = new CRC32();
        crc.update(img.pixels());
        return crc.getValue();
    }

    @Test
    void cmykAndYcckJpegsGivePillowsRgb() throws Exception {
        RgbImage cmyk = ImageFiles.read(resource("cmyk_16x12.jpg"));
        assertThat(cmyk.width()).isEqualTo(16);
        assertThat(cmyk.height()).isEqualTo(12);
        assertThat(PillowResizeTest.pixel(cmyk, 0, 0)).isEqualTo("253 253 253");
        assertThat(PillowResizeTest.pixel(cmyk, 6, 5)).isEqualTo("75 178 148");
        assertThat(PillowResizeTest.pixel(cmyk, 15, 11)).isEqualTo("0 0 5");
        assertThat(crc(cmyk)).isEqualTo(4070073043L);

        RgbImage ycck = ImageFiles.read(resource("ycck_16x12.jpg"));
        assertThat(PillowResizeTest.pixel(ycck, 0, 0)).isEqualTo("2 1 2");
        assertThat(PillowResizeTest.pixel(ycck, 6, 5)).isEqualTo("69 0 77");
        assertThat(PillowResizeTest.pixel(ycck, 15, 11)).isEqualTo("0 90 0");
        assertThat(crc(ycck)).isEqualTo(1452115190L);
    }

    /** A python with Pillow, or null. */
    private static String pillowPython() {
        for (String python : PYTHONS) {
            try {
                Process p = new ProcessBuilder(python, "-c", "import PIL").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) return python;
            } catch (IOException | InterruptedException e) {
                // not this one
            }
        }
        return null;
    }

    /** Pillow's RGB bytes of each file. */
    private static byte[] pillowRgb(String python, Path jpg) throws Exception {
        Process p = new ProcessBuilder(python, "-c",
                "import sys; from PIL import Image; sys.stdout.buffer.write(Image.open(sys.argv[1]).convert('RGB').tobytes())",
                jpg.toString()).start();
        byte[] rgb = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        return rgb;
    }

    @Test
    void newCmykAndYcckJpegsMatchPillowWhereItIsInstalled() throws Exception {
        String python = pillowPython();
        assumeTrue(python != null, "no python3 with Pillow here");
        Path cmyk = dir.resolve("random.jpg");
        // 96x64 of smooth CMYK with noisy patches, 4:2:0 and 4:4:4, at two qualities.
        String script = """
                import sys, numpy as np
                from PIL import Image
                rng = np.random.default_rng(11)
                y, x = np.mgrid[0:64, 0:96]
                a = np.stack([x * 255 // 95, y * 255 // 63, (x * 3 + y * 5) % 256, (x + 2 * y) % 256], -1).astype(np.uint8)
                a[10:40, 20:70] = rng.integers(0, 256, (30, 50, 4), dtype=np.uint8)
                Image.fromarray(a, 'CMYK').save(sys.argv[1], quality=int(sys.argv[2]), subsampling=int(sys.argv[3]))
                """;
        for (String[] setting : new String[][]{{"75", "2"}, {"95", "0"}}) {
            Process p = new ProcessBuilder(python, "-c", script, cmyk.toString(), setting[0], setting[1])
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(log).isZero();
            Path ycck = writeYcck(cmyk, dir.resolve("random_ycck.jpg"));
            for (Path jpg : List.of(cmyk, ycck)) {
                RgbImage ours = ImageFiles.read(jpg);
                byte[] want = pillowRgb(python, jpg);
                assertThat(want).hasSize(96 * 64 * 3);
                int worst = 0;
                for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((ours.pixels()[i] & 0xFF) - (want[i] & 0xFF)));
                // Both decoders are IJG-derived; allow a JPEG decoder's rounding, though they agreed exactly here.
                assertThat(worst).as(jpg + " quality " + setting[0]).isLessThanOrEqualTo(1);
            }
        }
    }

    /** A YCCK JPEG of src's CMYK samples: the JDK writer with src's Adobe marker set to transform 2. */
    private static Path writeYcck(Path src, Path out) throws IOException {
        Raster samples;
        IIOMetadata metadata;
        try (ImageInputStream in = ImageIO.createImageInputStream(src.toFile())) {
            ImageReader reader = ImageIO.getImageReaders(in).next();
            reader.setInput(in);
            samples = reader.readRaster(0, null);
            metadata = reader.getImageMetadata(0);
            reader.dispose();
        }
        String format = "javax_imageio_jpeg_image_1.0";
        IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree(format);
        ((IIOMetadataNode) root.getElementsByTagName("app14Adobe").item(0)).setAttribute("transform", "2");
        metadata.setFromTree(format, root);
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, samples.getWidth(), samples.getHeight(), 4, null);
        raster.setRect(samples);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream o = ImageIO.createImageOutputStream(out.toFile())) {
            writer.setOutput(o);
            writer.write(null, new IIOImage(raster, null, metadata), null);
        } finally {
            writer.dispose();
        }
        return out;
    }
}
