package dev.perceiver.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * testdata/golden/inputs: its PNGs and a minimal reader for its golden.safetensors (8-byte LE header length, JSON
 * header, raw LE data). Test-only; the project's real reader lives in the loader module.
 */
final class GoldenInputs {
    private static final String STRING = "\"((?:[^\"\\\\]|\\\\.)*)\"";
    private static final Pattern ENTRY = Pattern.compile(STRING
            + ":\\{\"dtype\":\"(\\w+)\",\"shape\":\\[([\\d,]*)],\"data_offsets\":\\[(\\d+),(\\d+)]}");
    private static final Pattern META_PAIR = Pattern.compile(STRING + ":" + STRING);

    record Entry(String dtype, int[] shape, int begin, int end) {
    }

    static final Path DIR = Path.of(System.getProperty("perceiver.testdata", "../testdata"), "golden", "inputs");

    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<String, String> metadata = new HashMap<>();
    private final ByteBuffer data;

    private GoldenInputs(byte[] file) {
        long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(file, 8, Math.toIntExact(headerLength), StandardCharsets.UTF_8);
        Matcher m = ENTRY.matcher(header);
        while (m.find()) {
            int[] shape = m.group(3).isEmpty() ? new int[0]
                    : Arrays.stream(m.group(3).split(",")).mapToInt(Integer::parseInt).toArray();
            entries.put(unescape(m.group(1)), new Entry(m.group(2), shape, Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5))));
        }
        int meta = header.indexOf("\"__metadata__\":{");
        if (meta >= 0) {
            Matcher p = META_PAIR.matcher(header.substring(meta + 16, header.indexOf('}', meta)));
            while (p.find()) metadata.put(unescape(p.group(1)), unescape(p.group(2)));
        }
        data = ByteBuffer.wrap(file, Math.toIntExact(8 + headerLength), Math.toIntExact(file.length - 8 - headerLength))
                .slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    static GoldenInputs load() throws IOException {
        return new GoldenInputs(Files.readAllBytes(DIR.resolve("golden.safetensors")));
    }

    Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("golden.safetensors has no tensor " + name);
        return e;
    }

    float[] floats(String name) {
        Entry e = entry(name);
        if (!e.dtype().equals("F32")) throw new IllegalArgumentException(name + " is " + e.dtype());
        float[] out = new float[(e.end() - e.begin()) / 4];
        data.slice(e.begin(), e.end() - e.begin()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    long[] longs(String name) {
        Entry e = entry(name);
        if (!e.dtype().equals("I64")) throw new IllegalArgumentException(name + " is " + e.dtype());
        long[] out = new long[(e.end() - e.begin()) / 8];
        data.slice(e.begin(), e.end() - e.begin()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    /** The metadata's "texts": a JSON list of strings stored as one JSON string. */
    List<String> texts() {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(STRING).matcher(metadata.get("texts"));
        while (m.find()) out.add(unescape(m.group(1)));
        return out;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> b.append(e); // \" \\ \/
            }
        }
        return b.toString();
    }
}
