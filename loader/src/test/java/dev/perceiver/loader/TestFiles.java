package dev.perceiver.loader;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Files for tests in every module (the loader's test jar): fuzz scratch files and hostile safetensors files. */
public final class TestFiles {
    private TestFiles() {
    }

    /** A temporary file for this JVM's fuzz inputs, deleted when the JVM exits. */
    public static Path scratchFile(String suffix) {
        try {
            Path file = Files.createTempFile("perceiver-fuzz-", suffix);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A valid safetensors file with one tensor of the given dtype and shape whose data is a hole: the file has its
     * full length but takes no disk space (sparse), so a tensor of any size costs nothing until it is read.
     */
    public static Path sparseSafeTensors(Path file, String name, DType dtype, long... shape) throws IOException {
        long bytes = dtype.bytes() * Arrays.stream(shape).reduce(1, Math::multiplyExact);
        byte[] header = header(name, dtype, shape, bytes);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(0);
            f.write(header);
            f.setLength(header.length + bytes);
        }
        return file;
    }

    /** Just the length and header of such a file: a header that claims data the file does not have. */
    public static Path truncatedSafeTensors(Path file, String name, DType dtype, long... shape) throws IOException {
        long bytes = dtype.bytes() * Arrays.stream(shape).reduce(1, Math::multiplyExact);
        return Files.write(file, header(name, dtype, shape, bytes));
    }

    /** The 8-byte length and the JSON header, padded with spaces so the data would start 8-byte aligned. */
    private static byte[] header(String name, DType dtype, long[] shape, long bytes) {
        String json = "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":["
                + Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(","))
                + "],\"data_offsets\":[0," + bytes + "]}}";
        byte[] text = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + text.length).order(ByteOrder.LITTLE_ENDIAN).putLong(text.length).put(text).array();
    }
}
