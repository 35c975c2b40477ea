package dev.perceiver.io;

import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.json.Json;
import dev.perceiver.loader.json.JsonException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** HF PerceiverImageProcessor's settings in a model folder's preprocessor_config.json; what this engine cannot do is refused. */
public final class PreprocessorConfig {
    public static final String FILE = "preprocessor_config.json";
    private static final int BICUBIC = 3;

    private PreprocessorConfig() {}

    /** The processor file describes. */
    public static ImageProcessor read(Path file) throws IOException {
        Map<?, ?> c;
        try {
            if (!(Json.parse(Files.readString(file)) instanceof Map<?, ?> m))
                throw new CheckpointException(file, "must hold a JSON object");
            c = m;
        } catch (JsonException e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getMessage(), e);
        }
        int[] size = size(c, "size", ImageProcessor.SIZE, file), crop = size(c, "crop_size", ImageProcessor.CROP, file);
        long resample = number(c, "resample", BICUBIC, file).longValue();
        if (resample != BICUBIC)
            throw new CheckpointException(file, "resample " + resample
                    + " is not supported; only 3 (bicubic), which the Perceiver checkpoints use");
        double rescale = number(c, "rescale_factor", 1 / 255.0, file).doubleValue();
        if (!flag(c, "do_rescale", file) || Math.abs(rescale - 1 / 255.0) > 1e-12 || !flag(c, "do_normalize", file))
            throw new CheckpointException(file, "only do_rescale true with rescale_factor 1/255 and do_normalize true are supported");
        return new ImageProcessor(size[0], size[1], crop[0], crop[1],
                channels(c, "image_mean", ImageProcessor.IMAGENET_MEAN, file),
                channels(c, "image_std", ImageProcessor.IMAGENET_STD, file), flag(c, "do_center_crop", file),
                flag(c, "do_resize", file));
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
