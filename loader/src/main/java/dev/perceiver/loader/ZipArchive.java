package dev.perceiver.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip archive that is already mapped, so stored entries can be sliced in place (torch.save
 * stores every record uncompressed). Reads ZIP64 records too; every offset is checked against the file before use.
 */
final class ZipArchive {
    private static final int LOCAL_HEADER = 0x04034b50, CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_CENTRAL_DIRECTORY = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50, ZIP64_END = 0x06064b50;
    private static final int ZIP64_EXTRA = 0x0001;
    private static final long U32_MAX = 0xFFFFFFFFL;
    private static final int U16_MAX = 0xFFFF;
    private static final int STORED = 0;

    /** A stored entry: its data is size bytes at offset in the file. */
    record Entry(String name, long offset, long size) {
    }

    private final Path path;
    private final MemorySegment file;
    private final long fileSize;

    private ZipArchive(Path path, MemorySegment file) {
        this.path = path;
        this.file = file;
        this.fileSize = file.byteSize();
    }

    /** Every entry by name, in central-directory order. */
    static Map<String, Entry> entries(Path path, MemorySegment file) {
        return new ZipArchive(path, file).read();
    }

    private Map<String, Entry> read() {
        long end = findEnd();
        long count = u16(end + 10), cdSize = u32(end + 12), cdOffset = u32(end + 16);
        if (count == U16_MAX || cdSize == U32_MAX || cdOffset == U32_MAX) {
            long locator = end - 20;
            if (locator < 0 || u32(locator) != ZIP64_LOCATOR) throw error("ZIP64 end-of-directory locator missing");
            long zip64End = u64(locator + 8);
            if (u32(zip64End) != ZIP64_END) throw error("ZIP64 end-of-directory record missing at " + zip64End);
            count = u64(zip64End + 32);
            cdSize = u64(zip64End + 40);
            cdOffset = u64(zip64End + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > fileSize || cdSize > fileSize - cdOffset)
            throw error("central directory [" + cdOffset + ", +" + cdSize + "] lies outside the " + fileSize + "-byte file");
        Map<String, Entry> entries = new LinkedHashMap<>();
        long pos = cdOffset, cdEnd = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (pos + 46 > cdEnd || u32(pos) != CENTRAL_HEADER)
                throw error("central directory entry " + i + " at " + pos + " is malformed");
            int flags = u16(pos + 8), method = u16(pos + 10);
            long compressed = u32(pos + 20), size = u32(pos + 24);
            int nameLength = u16(pos + 28), extraLength = u16(pos + 30), commentLength = u16(pos + 32);
            long local = u32(pos + 42);
            long next = pos + 46 + nameLength + extraLength + commentLength;
            if (next > cdEnd) throw error("central directory entry " + i + " at " + pos + " runs past the directory");
            String name = new String(bytes(pos + 46, nameLength), StandardCharsets.UTF_8);
            // ZIP64 keeps the real values of the fields that hold 0xFFFFFFFF, in this order.
            long[] big = zip64Extra(pos + 46 + nameLength, extraLength);
            int k = 0;
            if (size == U32_MAX) size = zip64(big, k++, name);
            if (compressed == U32_MAX) compressed = zip64(big, k++, name);
            if (local == U32_MAX) local = zip64(big, k, name);
            if (size < 0 || compressed < 0 || local < 0) throw error("entry '" + name + "' has a ZIP64 size above 2^63");
            if ((flags & 1) != 0) throw error("entry '" + name + "' is encrypted");
            if (method != STORED || compressed != size)
                throw error("entry '" + name + "' is compressed (method " + method + "); torch.save stores records "
                        + "uncompressed, so this archive was repacked: extract it and zip it again without compression");
            if (entries.put(name, new Entry(name, dataOffset(name, local, size), size)) != null)
                throw error("entry '" + name + "' appears twice");
            pos = next;
        }
        return Collections.unmodifiableMap(entries);
    }

    /** The end-of-central-directory record: the last one, searched back over a comment of up to 64 KiB. */
    private long findEnd() {
        for (long p = fileSize - 22; p >= Math.max(0, fileSize - 22 - U16_MAX); p--)
            if (u32(p) == END_OF_CENTRAL_DIRECTORY && p + 22 + u16(p + 20) <= fileSize) return p;
        throw error("no zip end-of-central-directory record (truncated or not a zip archive)");
    }

    private long[] zip64Extra(long at, int length) {
        long end = at + length;
        while (at + 4 <= end) {
            int id = u16(at), size = u16(at + 2);
            if (at + 4 + size > end) break;
            if (id == ZIP64_EXTRA) {
                long[] values = new long[size / 8];
                for (int i = 0; i < values.length; i++) values[i] = u64(at + 4 + 8L * i);
                return values;
            }
            at += 4 + size;
        }
        return new long[0];
    }

    private long zip64(long[] values, int i, String name) {
        if (i >= values.length) throw error("entry '" + name + "' lacks the ZIP64 field its header points to");
        return values[i];
    }

    private long dataOffset(String name, long local, long size) {
        if (local + 30 > fileSize || u32(local) != LOCAL_HEADER)
            throw error("entry '" + name + "' has no local header at " + local);
        long data = local + 30 + u16(local + 26) + u16(local + 28);
        if (data > fileSize || size > fileSize - data)
            throw error("entry '" + name + "' data [" + data + ", +" + size + "] runs past the end of the "
                    + fileSize + "-byte file (truncated?)");
        return data;
    }

    private byte[] bytes(long at, int length) {
        check(at, length);
        return file.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE);
    }

    private int u16(long at) {
        check(at, 2);
        return file.get(Elements.SHORT, at) & 0xFFFF;
    }

    private long u32(long at) {
        check(at, 4);
        return file.get(Elements.INT, at) & U32_MAX;
    }

    private long u64(long at) {
        check(at, 8);
        return file.get(Elements.LONG, at);
    }

    private void check(long at, long length) {
        if (at < 0 || at > fileSize - length)
            throw error("zip structure at offset " + at + " runs past the end of the " + fileSize + "-byte file");
    }

    private CheckpointException error(String message) {
        return new CheckpointException(path, "zip archive: " + message);
    }
}
