package dev.perceiver.cli;

import dev.perceiver.loader.json.Json;
import dev.perceiver.model.TraceEvent;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A traced pass as a Chrome trace-event file (the JSON Trace Event Format that Perfetto and chrome://tracing open):
 * one complete ("X") event per span, times in microseconds from the start of the pass, one track per thread (named by
 * "thread_name" metadata), and otherData saying what was run.
 */
final class ChromeTrace {
    private ChromeTrace() {}

    static void write(List<TraceEvent> events, Map<String, Object> about, Path file) throws IOException {
        long pid = ProcessHandle.current().pid();
        long origin = events.stream().mapToLong(TraceEvent::startNanos).min().orElse(0); // the pass starts at 0
        Map<String, Integer> tids = new LinkedHashMap<>();
        List<Object> out = new ArrayList<>();
        for (TraceEvent e : events) {
            int tid = tids.computeIfAbsent(e.thread(), t -> tids.size() + 1);
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", e.name());
            x.put("cat", e.category());
            x.put("ph", "X");
            x.put("ts", BigDecimal.valueOf(e.startNanos() - origin, 3));
            x.put("dur", BigDecimal.valueOf(e.durationNanos(), 3));
            x.put("pid", pid);
            x.put("tid", tid);
            if (!e.args().isEmpty()) x.put("args", e.args());
            out.add(x);
        }
        out.add(Map.of("name", "process_name", "ph", "M", "pid", pid, "tid", 0, "args", Map.of("name", "perceiver")));
        tids.forEach((thread, tid) -> out.add(Map.of("name", "thread_name", "ph", "M", "pid", pid, "tid", tid,
                "args", Map.of("name", thread))));
        Map<String, Object> trace = new LinkedHashMap<>();
        trace.put("traceEvents", out);
        trace.put("displayTimeUnit", "ms");
        trace.put("otherData", about);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            Json.write(trace, w, false);
        }
    }
}
