package dev.perceiver.loader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds pickle byte streams opcode by opcode, and torch.save-shaped zip archives around them, for tests. */
final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle op(int code) {
        out.write(code);
        return this;
    }

    Pickle proto(int version) {
        return op(0x80).op(version);
    }

    Pickle mark() {
        return op('(');
    }

    Pickle str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        out.writeBytes(le(4).putInt(b.length).array());
        out.writeBytes(b);
        return this;
    }

    Pickle shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c).op(b.length);
        out.writeBytes(b);
        return this;
    }

    Pickle integer(long v) {
        if (v >= 0 && v < 256) return op('K').op((int) v);
        if (v >= 0 && v < 65536) return op('M').op((int) v & 0xff).op((int) (v >> 8));
        if (v == (int) v) {
            op('J');
            out.writeBytes(le(4).putInt((int) v).array());
            return this;
        }
        op(0x8a).op(8);
        out.writeBytes(le(8).putLong(v).array());
        return this;
    }

    Pickle global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    Pickle tuple(long... items) {
        mark();
        for (long i : items) integer(i);
        return op('t');
    }

    Pickle put(int memo) {
        return op('q').op(memo);
    }

    Pickle get(int memo) {
        return op('h').op(memo);
    }

    Pickle raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    /** The persistent id ('storage', torch.{storageClass}, key, 'cpu', numel) and BINPERSID. */
    Pickle storage(String storageClass, String key, long numel) {
        return mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).op('t').op('Q');
    }

    /** _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) as torch.save writes it. */
    Pickle tensor(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        storage(storageClass, key, numel).integer(offset).tuple(size).tuple(stride).op(0x89);
        return global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A zip laid out as torch.save writes it: every record stored under prefix/, optionally a byteorder record. */
    static Path torchZip(Path file, String prefix, byte[] pickle, Map<String, byte[]> storages, String byteorder)
            throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, prefix + "/data.pkl", pickle);
            if (byteorder != null) stored(zip, prefix + "/byteorder", byteorder.getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> e : storages.entrySet()) stored(zip, prefix + "/data/" + e.getKey(), e.getValue());
            stored(zip, prefix + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return file;
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
