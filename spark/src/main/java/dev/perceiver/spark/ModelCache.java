package dev.perceiver.spark;

import dev.perceiver.loader.Checkpoints;
import dev.perceiver.model.Perceiver;
import org.apache.spark.SparkFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * The models this JVM (a Spark executor, or the driver in local mode) has open, shared by all its tasks: a model is
 * memory-mapped once per JVM and stays open until the JVM exits. Keyed by folder and a checksum of its files, so a
 * model replaced in place under the same path is opened afresh.
 */
public final class ModelCache {
    private record Key(Path dir, long checksum) {}

    private static final ConcurrentHashMap<Key, Perceiver> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger OPENED = new AtomicInteger();

    private ModelCache() {}

    /** The model at location (see {@link #resolve}), opened with options on first use in this JVM. */
    public static Perceiver get(String location, Perceiver.Options options) {
        Path dir = resolve(location);
        return MODELS.computeIfAbsent(new Key(dir, checksum(dir)), k -> {
            OPENED.incrementAndGet();
            return Perceiver.load(k.dir(), options);
        });
    }

    /** How many models this JVM has opened so far. */
    public static int opened() {
        return OPENED.get();
    }

    /**
     * The model folder location names on this machine: a local (or NFS) path or file: URI, else the name of a folder
     * the job added with {@code SparkContext.addFile(dir, true)}, which Spark has copied into this executor's
     * SparkFiles folder. Neither is a one-line error naming the location and the host.
     */
    public static Path resolve(String location) {
        Path dir = location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
        if (Files.isDirectory(dir)) return dir.toAbsolutePath().normalize();
        if (!location.contains("/")) {
            try {
                Path shipped = Path.of(SparkFiles.get(location));
                if (Files.isDirectory(shipped)) return shipped;
            } catch (RuntimeException noSparkFiles) {
                // no SparkContext in this JVM: only local paths can be read
            }
        }
        throw new ModelNotFoundException("model folder " + location + " not found on " + host()
                + ": give a folder every executor can read (local disk, NFS) or one shipped with SparkContext.addFile");
    }

    /** CRC32 of the config files' bytes and of the weights file's name, size and modification time (not its bytes:
     *  reading gigabytes of weights at every task start would cost more than the inference). */
    private static long checksum(Path dir) {
        CRC32 crc = new CRC32();
        try {
            for (String name : new String[] {"config.json", "preprocessor_config.json"}) {
                Path f = dir.resolve(name);
                if (Files.isRegularFile(f)) crc.update(Files.readAllBytes(f));
            }
            for (String name : new String[] {Checkpoints.SAFETENSORS, Checkpoints.PYTORCH}) {
                Path f = dir.resolve(name);
                if (Files.isRegularFile(f))
                    crc.update((name + Files.size(f) + "@" + Files.getLastModifiedTime(f).toMillis()).getBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot read the model folder: " + e.getMessage(), e);
        }
        return crc.getValue();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "this host";
        }
    }

    /** The model folder is not readable where a task runs. */
    public static final class ModelNotFoundException extends IllegalArgumentException {
        ModelNotFoundException(String message) {
            super(message);
        }
    }
}
