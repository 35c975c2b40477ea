package dev.perceiver.cli;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.json.Json;
import dev.perceiver.loader.json.JsonException;
import dev.perceiver.model.Head;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Image files on the command line, and the image processor a classifier's folder asks for. */
final class ImageInputs {
    static final String PREPROCESSOR_CONFIG = "preprocessor_config.json";
    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    private static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};
    private static final int SIZE = 224, CROP = 256, BICUBIC = 3;

    private ImageInputs() {}

    /** One input of a batch: an image file, or why a name on the command line gives none. */
    record Input(String name, Path file, String error) {
    }

    /**
     * Files as given and the image files of folders (sorted by name; with recursive, of their subfolders too), in
     * command-line order; "-" stands for the paths read from stdin, one a line. A name that gives no image is an
     * input with its error, so that it costs only its own result.
     */
    static List<Input> expand(List<String> paths, boolean recursive, InputStream stdin) throws IOException {
        List<Input> inputs = new ArrayList<>();
        for (String s : paths) {
            if (s.equals("-")) {
                for (String line : new String(stdin.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n"))
                    if (!line.isBlank()) inputs.addAll(expand(line.strip(), recursive));
            } else {
                inputs.addAll(expand(s, recursive));
            }
        }
        return inputs;
    }

    private static List<Input> expand(String name, boolean recursive) throws IOException {
        Path p;
        try {
            p = Path.of(name);
        } catch (InvalidPathException e) {
            return List.of(new Input(name, null, "not a valid path: " + e.getReason()));
        }
        if (Files.isDirectory(p)) {
            List<Path> images = ImageFiles.list(p, recursive);
            if (images.isEmpty())
                return List.of(new Input(name, null, "no PNG, JPEG, BMP or GIF images in this folder"
                        + (recursive ? " or its subfolders" : " (--recursive also reads its subfolders)")));
            return images.stream().map(f -> new Input(f.toString(), f, null)).toList();
        }
        return List.of(Files.exists(p) ? new Input(name, p, null) : new Input(name, null, "no such file"));
    }

    /** Decodes an image; a file that is not a readable image is bad input (exit code 4), named in the message. */
    static RgbImage read(Path file) throws IOException {
        try {
            return ImageFiles.read(file);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidInputException(e.getMessage());
        }
    }

    /**
     * The model folder's preprocessor_config.json if it has one, else the checkpoints' defaults (224 from a 256 crop,
     * ImageNet statistics). The learned-position head takes exactly image_size² positions, so without a
     * preprocessor config a model with image_size other than 224 gets size image_size and the same crop ratio.
     */
    static ImageProcessor processor(Path modelDir, PerceiverConfig config, Head head) throws IOException {
        Path file = modelDir.resolve(PREPROCESSOR_CONFIG);
        if (Files.exists(file)) return fromConfig(file);
        int size = head == Head.IMAGE_CLASSIFICATION_LEARNED ? config.imageSize() : SIZE;
        int crop = (int) Math.round(size * (double) CROP / SIZE);
        return new ImageProcessor(size, size, crop, crop, IMAGENET_MEAN, IMAGENET_STD);
    }

    /** HF PerceiverImageProcessor's settings from preprocessor_config.json; what this engine cannot do is refused. */
    static ImageProcessor fromConfig(Path file) throws IOException {
        Map<?, ?> c;
        try {
            if (!(Json.parse(Files.readString(file)) instanceof Map<?, ?> m))
                throw new CheckpointException(file, "must hold a JSON object");
            c = m;
        } catch (JsonException e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getMessage(), e);
        }
        int[] size = size(c, "size", SIZE, file), crop = size(c, "crop_size", CROP, file);
        long resample = number(c, "resample", BICUBIC, file).longValue();
        if (resample != BICUBIC)
            throw new CheckpointException(file, "resample " + resample
                    + " is not supported; only 3 (bicubic), which the Perceiver checkpoints use");
        double rescale = number(c, "rescale_factor", 1 / 255.0, file).doubleValue();
        if (!flag(c, "do_rescale", file) || Math.abs(rescale - 1 / 255.0) > 1e-12 || !flag(c, "do_normalize", file))
            throw new CheckpointException(file, "only do_rescale true with rescale_factor 1/255 and do_normalize true are supported");
        return new ImageProcessor(size[0], size[1], crop[0], crop[1], channels(c, "image_mean", IMAGENET_MEAN, file),
                channels(c, "image_std", IMAGENET_STD, file), flag(c, "do_center_crop", file), flag(c, "do_resize", file));
    }

    /** An int (a square, as HF's get_size_dict reads the old form) or {"height", "width"}: [height, width]. */
    private static int[] size(Map<?, ?> c, String key, int fallback, Path file) {
        Object v = c.get(key);
        if (v == null) return new int[] {fallback, fallback};
        if (v instanceof Long n) return new int[] {positive(n, key, file), positive(n, key, file)};
        if (v instanceof Map<?, ?> m && m.get("height") instanceof Long h && m.get("width") instanceof Long w)
            return new int[] {positive(h, key + ".height", file), positive(w, key + ".width", file)};
        throw new CheckpointException(file, key + " must be an integer or {\"height\": H, \"width\": W}, found " + Json.describe(v));
    }

    private static int positive(long n, String key, Path file) {
        if (n <= 0 || n > 1 << 16) throw new CheckpointException(file, key + " must be a positive size, found " + n);
        return (int) n;
    }

    private static Number number(Map<?, ?> c, String key, double fallback, Path file) {
        Object v = c.get(key);
        if (v == null) return fallback;
        if (v instanceof Number n) return n;
        throw new CheckpointException(file, key + " must be a number, found " + Json.describe(v));
    }

    /** HF's switches all default to true. */
    private static boolean flag(Map<?, ?> c, String key, Path file) {
        Object v = c.get(key);
        if (v == null) return true;
        if (v instanceof Boolean b) return b;
        throw new CheckpointException(file, key + " must be true or false, found " + Json.describe(v));
    }

    /** Three numbers, or one for all channels (HF accepts both). */
    private static double[] channels(Map<?, ?> c, String key, double[] fallback, Path file) {
        Object v = c.get(key);
        if (v == null) return fallback;
        if (v instanceof Number n) return new double[] {n.doubleValue(), n.doubleValue(), n.doubleValue()};
        if (v instanceof List<?> l && l.size() == 3 && l.stream().allMatch(x -> x instanceof Number))
            return l.stream().mapToDouble(x -> ((Number) x).doubleValue()).toArray();
        throw new CheckpointException(file, key + " must be a number or a list of 3 numbers, found " + Json.describe(v));
    }
}
