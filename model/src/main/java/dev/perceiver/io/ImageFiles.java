package dev.perceiver.io;


import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads PNG, JPEG, BMP and GIF files into {@link RgbImage}s with the values PIL's {@code Image.open(f).convert("RGB")}
 * gives (Pillow 9.4), and writes PNGs.
 *
 * <p>Conversion rules, each PIL's: palettes are looked up (palette transparency ignored); grey is copied to R, G
 * and B; alpha is dropped, not composited; colour profiles and gamma are ignored (raw sample values). 16-bit
 * samples: grey without alpha is clipped to 255 (PIL opens it as mode "I" and {@code convert} clips), every other
 * 16-bit layout keeps the high byte (PIL's 16-bit PNG unpackers). Packed 5/6-bit BMP channels scale by
 * {@code v * 255 / max} with integer division (PIL's unpackers). GIF: the first frame. CMYK and YCCK JPEGs: the
 * JDK's decoder gives the CMYK samples Pillow does (YCCK converted, the Adobe inversion applied to every 4-channel
 * JPEG, as Pillow assumes), then Pillow's {@code cmyk2rgb}: {@code nk − nk·c/255} with {@code nk = 255 − k}, rounded
 * as its MULDIV255. Other colour spaces are refused. JPEGs decode with the JDK's IJG-based decoder, which agreed bit for bit with Pillow 9.4's
 * libjpeg-turbo on baseline and progressive 4:2:0, 4:2:2, 4:4:4 and grey files when this was written. Truncated
 * files are refused, as PIL refuses them.
 */
public final class ImageFiles {
    /** Images above this many pixels are refused before their pixels are decoded. */
    public static final long MAX_PIXELS = 100_000_000L;

    private static final Set<String> FORMATS = Set.of("png", "jpeg", "bmp", "gif");
    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    private ImageFiles() {
    }

    /** The image files in dir (png, jpg, jpeg, bmp, gif by extension; other files ignored), sorted by file name. */
    public static List<Path> list(Path dir) throws IOException {
        return list(dir, false);
    }

    /** {@link #list(Path)}, and with recursive those of every subfolder too, sorted by their path within dir. */
    public static List<Path> list(Path dir, boolean recursive) throws IOException {
        if (!Files.isDirectory(dir)) throw new NotDirectoryException(dir.toString());
        try (Stream<Path> files = recursive ? Files.walk(dir) : Files.list(dir)) {
            return files.filter(p -> Files.isRegularFile(p) && EXTENSIONS.contains(extension(p)))
                    .sorted(Comparator.comparing(p -> dir.relativize(p).toString())).toList();
        }
    }

    private static String extension(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** Decodes file into 8-bit RGB. */
    public static RgbImage read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no such image file");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new IOException(file + ": cannot open the file for reading");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IOException(file + ": not a PNG, JPEG, BMP or GIF image");
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (!FORMATS.contains(format))
                    throw new IOException(file + ": unsupported image format " + format + " (expected PNG, JPEG, BMP or GIF)");
                reader.setInput(in, true, true);
                // PIL refuses truncated files; the JDK's JPEG decoder only warns and fills in grey.
                List<String> truncation = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> {
                    String lower = warning.toLowerCase(Locale.ROOT);
                    if (lower.contains("truncated") || lower.contains("premature end")) truncation.add(warning);
                });
                int w, h;
                try {
                    w = reader.getWidth(0);
                    h = reader.getHeight(0);
                } catch (IOException | RuntimeException e) {
                    throw decodeError(file, format, e.toString(), e);
                }
                // The header gives the size; refuse before allocating pixels for a hostile or absurd file.
                if ((long) w * h > MAX_PIXELS)
                    throw new IOException(file + ": " + w + "x" + h + " image has more than " + MAX_PIXELS + " pixels");
                BufferedImage img;
                try {
                    img = reader.read(0);
                } catch (IOException | RuntimeException e) {
                    throw decodeError(file, format, e.toString(), e);
                }
                if (!truncation.isEmpty()) throw decodeError(file, format, truncation.getFirst(), null);
                return toRgb(img, file);
            } finally {
                reader.dispose();
            }
        }
    }

    private static IOException decodeError(Path file, String format, String why, Exception cause) {
        return new IOException(file + ": cannot decode " + format + " image (truncated or corrupt): " + why, cause);
    }

    /**
     * {@link #read}, for a caller's input: a file that is not a readable image is bad input, an
     * {@link InvalidInputException} naming it; a missing file stays a NoSuchFileException.
     */
    public static RgbImage readInput(Path file) throws IOException {
        try {
            return read(file);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidInputException(e.getMessage());
        }
    }

    /** Writes image as an 8-bit RGB PNG, replacing file. */
    public static void writePng(RgbImage image, Path file) throws IOException {
        BufferedImage out = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster r = out.getRaster();
        byte[] px = image.pixels();
        int[] row = new int[image.width() * 3];
        for (int y = 0; y < image.height(); y++) {
            for (int i = 0; i < row.length; i++) row[i] = px[y * row.length + i] & 0xFF;
            r.setPixels(0, y, image.width(), 1, row);
        }
        Files.deleteIfExists(file);
        if (!ImageIO.write(out, "png", file.toFile())) throw new IOException(file + ": no PNG writer in this JDK");
    }

    private static RgbImage toRgb(BufferedImage img, Path file) throws IOException {
        int w = img.getWidth(), h = img.getHeight();
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        byte[] out = new byte[Math.multiplyExact(w * h, 3)];
        int[] row = new int[w];
        if (cm instanceof IndexColorModel icm) {
            int n = icm.getMapSize();
            byte[][] lut = {new byte[n], new byte[n], new byte[n]};
            icm.getReds(lut[0]);
            icm.getGreens(lut[1]);
            icm.getBlues(lut[2]);
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    if (row[x] >= n) throw new IOException(file + ": palette index " + row[x] + " outside a palette of " + n);
                    for (int c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = lut[c][row[x]];
                }
            }
        } else if (cm instanceof DirectColorModel) {
            // Packed pixels (16- and 32-bit BMP): band b is the channel under mask b, already shifted down.
            for (int c = 0; c < 3; c++) {
                int max = (1 << cm.getComponentSize(c)) - 1;
                // PIL refuses bit-field layouts it does not know; one with no bits for a channel is surely one.
                if (max == 0)
                    throw new IOException(file + ": packed pixels have an empty " + List.of("red", "green", "blue").get(c)
                            + " bit mask (unsupported BMP bit-field layout)");
                for (int y = 0; y < h; y++) {
                    r.getSamples(0, y, w, 1, c, row);
                    for (int x = 0; x < w; x++) out[(y * w + x) * 3 + c] = (byte) (max == 255 ? row[x] : row[x] * 255 / max);
                }
            }
        } else if (cm instanceof ComponentColorModel) {
            int type = cm.getColorSpace().getType();
            int colours = cm.getNumColorComponents();
            boolean grey = type == ColorSpace.TYPE_GRAY && colours == 1;
            if (type == ColorSpace.TYPE_CMYK && colours == 4 && !cm.hasAlpha() && cm.getComponentSize(0) == 8)
                return cmykToRgb(r, w, h);
            if (!grey && !(type == ColorSpace.TYPE_RGB && colours == 3))
                throw new IOException(file + ": " + colours + "-channel colour space is not supported; convert it to RGB");
            int bits = cm.getComponentSize(0);
            for (int c = 0; c < 3; c++) {
                int band = grey ? 0 : c;
                for (int y = 0; y < h; y++) {
                    r.getSamples(0, y, w, 1, band, row);
                    for (int x = 0; x < w; x++) out[(y * w + x) * 3 + c] = (byte) to8Bit(row[x], bits, grey && !cm.hasAlpha(), file);
                }
            }
        } else {
            throw new IOException(file + ": unsupported colour model " + cm.getClass().getSimpleName());
        }
        return new RgbImage(w, h, out);
    }

    /** Pillow's cmyk2rgb (Convert.c): each channel {@code nk − MULDIV255(c, nk)}, {@code nk = 255 − k}. */
    private static RgbImage cmykToRgb(Raster r, int w, int h) {
        byte[] out = new byte[Math.multiplyExact(w * h, 3)];
        int[] px = new int[w * 4];
        for (int y = 0; y < h; y++) {
            r.getPixels(0, y, w, 1, px);
            for (int x = 0; x < w; x++) {
                int nk = 255 - px[x * 4 + 3];
                for (int c = 0; c < 3; c++) {
                    int t = px[x * 4 + c] * nk + 128;
                    out[(y * w + x) * 3 + c] = (byte) (nk - (((t >> 8) + t) >> 8));
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static int to8Bit(int v, int bits, boolean plainGrey, Path file) throws IOException {
        return switch (bits) {
            case 8 -> v;
            case 16 -> plainGrey ? Math.min(v, 255) : v >>> 8;
            case 1, 2, 4 -> v * 255 / ((1 << bits) - 1);
            default -> throw new IOException(file + ": " + bits + "-bit samples are not supported");
        };
    }
}
