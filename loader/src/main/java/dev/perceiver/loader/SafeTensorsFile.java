package dev.perceiver.loader;

import dev.perceiver.loader.json.Json;
import dev.perceiver.loader.json.JsonException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file, memory-mapped: an 8-byte little-endian header length N, N bytes of JSON header, then the
 * tensor data. Opening validates every rule of the format (huggingface/safetensors {@code tensor.rs}) before any
 * tensor is read, so later slices of the mapping cannot fall outside it.
 */
public final class SafeTensorsFile extends MappedCheckpoint {
    /** safetensors' MAX_HEADER_SIZE. */
    public static final long MAX_HEADER_SIZE = 100_000_000;
    static final String METADATA_KEY = "__metadata__";

    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, Arena arena, MemorySegment file, Header header) {
        super(path, arena, file, header.tensors);
        this.metadata = header.metadata;
    }

    /** Maps and validates the file; a CheckpointException names the file, the tensor and the rule it breaks. */
    public static SafeTensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = map(path, arena);
            return new SafeTensorsFile(path, arena, file, new Header(path, file));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    MemorySegment elements(TensorInfo tensor, Arena scratch) {
        return file.asSlice(tensor.byteOffset(), tensor.byteLength());
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A header entry before the layout check: data_offsets relative to the data section. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    /** The parsed and validated header. */
    private static final class Header {
        final Path path;
        final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();

        Header(Path path, MemorySegment file) {
            this.path = path;
            long size = file.byteSize();
            if (size < 8)
                throw error("file is " + size + " bytes, shorter than the 8-byte header length (truncated?)");
            long n = file.get(Elements.LONG, 0);
            // The length is an unsigned u64: a negative long is a length above 2^63.
            if (n < 0 || n > MAX_HEADER_SIZE)
                throw error("header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes");
            if (8 + n > size)
                throw error("header length " + n + " runs past the end of the file (8 + " + n + " > " + size + " bytes)");
            Map<?, ?> root = parseJson(decode(file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE)));
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : root.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals(METADATA_KEY)) metadata = metadata(e.getValue());
                else entries.add(entry(name, e.getValue()));
            }
            long dataStart = 8 + n;
            checkLayout(entries, size - dataStart);
            // Every end is now within the file, so the absolute offsets cannot overflow.
            for (Entry e : entries)
                tensors.put(e.name, new TensorInfo(e.name, e.dtype, e.shape, dataStart + e.begin, e.end - e.begin));
        }

        private String decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(in).toString();
            } catch (CharacterCodingException e) {
                // The decoder stops at the bad sequence; report it as a file offset.
                throw error("header is not valid UTF-8 (bad byte sequence at file offset " + (8 + in.position()) + ")");
            }
        }

        private Map<?, ?> parseJson(String text) {
            if (text.isEmpty() || text.charAt(0) != '{')
                throw error("header must be a JSON object starting with '{', found "
                        + (text.isEmpty() ? "an empty header" : "'" + text.charAt(0) + "'"));
            try {
                // Writers pad the header with trailing spaces, which JSON treats as whitespace.
                return (Map<?, ?>) Json.parse(text);
            } catch (JsonException e) {
                throw error("header is not valid JSON: " + e.getMessage());
            }
        }

        private Map<String, String> metadata(Object value) {
            if (!(value instanceof Map<?, ?> map))
                throw error(METADATA_KEY + " must be an object of strings, found " + Json.describe(value));
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getValue() instanceof String s))
                    throw error(METADATA_KEY + " must map strings to strings, but '" + e.getKey() + "' is "
                            + Json.describe(e.getValue()));
                out.put((String) e.getKey(), s);
            }
            return Collections.unmodifiableMap(out);
        }

        private Entry entry(String name, Object value) {
            if (!(value instanceof Map<?, ?> fields))
                throw error("tensor '" + name + "': expected an object with dtype, shape and data_offsets, found "
                        + Json.describe(value));
            DType dtype = dtype(name, fields.get("dtype"));
            long[] shape = nonNegativeIntegers(name, "shape", fields.get("shape"), -1);
            long[] offsets = nonNegativeIntegers(name, "data_offsets", fields.get("data_offsets"), 2);
            long begin = offsets[0], end = offsets[1];
            if (end < begin)
                throw error("tensor '" + name + "': data_offsets end " + end + " is before begin " + begin);
            long bytes;
            try {
                bytes = dtype.bytes();
                for (long d : shape) bytes = Math.multiplyExact(bytes, d);
            } catch (ArithmeticException overflow) {
                throw error("tensor '" + name + "': shape " + Arrays.toString(shape) + " overflows a 64-bit byte count");
            }
            if (bytes != end - begin)
                throw error("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " needs " + bytes
                        + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
            return new Entry(name, dtype, shape, begin, end);
        }

        private DType dtype(String name, Object value) {
            if (!(value instanceof String s))
                throw error("tensor '" + name + "': dtype must be a string, found " + Json.describe(value));
            for (DType t : DType.values()) if (t.name().equals(s)) return t;
            throw error("tensor '" + name + "': dtype " + s + " is not supported (supported: "
                    + Arrays.toString(DType.values()) + ")");
        }

        /** A JSON array of non-negative integers, of the given length unless that is negative. */
        private long[] nonNegativeIntegers(String name, String field, Object value, int length) {
            String want = length == 2 ? "two non-negative integers [begin, end]" : "an array of non-negative integers";
            if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length))
                throw error("tensor '" + name + "': " + field + " must be " + want + ", found " + describe(value));
            long[] out = new long[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Long l) || l < 0)
                    throw error("tensor '" + name + "': " + field + " must be " + want + ", found " + describe(value));
                out[i] = l;
            }
            return out;
        }

        private static String describe(Object value) {
            return value instanceof List<?> ? Json.write(value) : Json.describe(value);
        }

        /** Tensors in data order must tile [0, dataBytes) exactly: no holes, no overlaps, nothing left over. */
        private void checkLayout(List<Entry> entries, long dataBytes) {
            List<Entry> byOffset = new ArrayList<>(entries);
            byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long expected = 0;
            String previous = null;
            for (Entry t : byOffset) {
                if (t.begin > expected)
                    throw error("tensor '" + t.name + "': data_offsets begin " + t.begin + " leaves a hole of "
                            + (t.begin - expected) + " bytes after "
                            + (previous == null ? "the header" : "tensor '" + previous + "'")
                            + " (which ends at " + expected + ")");
                if (t.begin < expected)
                    throw error("tensor '" + t.name + "': data_offsets [" + t.begin + ", " + t.end + "] overlap tensor '"
                            + previous + "' (which ends at " + expected + ")");
                expected = t.end;
                previous = t.name;
            }
            if (expected != dataBytes)
                throw error("tensor data ends at byte " + expected + " of the data section but the file holds "
                        + dataBytes + " data bytes after the header" + (expected > dataBytes ? " (truncated?)" : ""));
        }

        private CheckpointException error(String message) {
            return new CheckpointException(path, message);
        }
    }
}
