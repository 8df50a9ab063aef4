package ai.chunkwise.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A long training run (tiny model) and the least-squares slope of its resident set (JavaCPP's physicalBytes, as
 * metrics.jsonl records it per step), of the heap in use after the latest GC (the live data) and of the heap in use
 * (with its garbage) over the steps after a warm-up: a leak shows as a steady positive slope.
 */
final class MemorySlope {
    private MemorySlope() {
    }

    static String run(Path work, int steps) {
        // short rows (2 chunks of 16): the measurement is about memory per step, not about long sequences
        Path dataset = work.resolve("memory-ds");
        if (!Files.exists(dataset)) {
            Fixtures.dataset(dataset, 60, 3, 16, 2);
        }
        Path config = Fixtures.modelConfig(work.resolve("tiny-bytes.json"));
        Path out = work.resolve("memory-run");
        Fixtures.deleteTree(out);
        long t0 = System.nanoTime();
        int rc = KillTrials.job(KillTrials.TRAIN_MAIN, List.of("train", "--dataset", dataset.toString(), "--init-config",
                config.toString(), "--out", out.toString(), "--steps", String.valueOf(steps), "--set",
                "train.checkpoint-every=250", "--set", "train.log-every=50")).run(work.resolve("memory-run.log"), 3600);
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<double[]> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            for (String line : Files.readAllLines(out.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
                JsonNode n = json.readTree(line);
                rows.add(new double[] {n.get("step").asDouble(), n.get("physical_bytes").asDouble(),
                        n.get("heap_bytes").asDouble(), n.get("heap_after_gc_bytes").asDouble()});
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int from = rows.size() / 5;   // the first fifth is warm-up (graph building, JIT, caches filling)
        List<double[]> tail = rows.subList(from, rows.size());
        double physicalSlope = slope(tail, 1);
        double heapSlope = slope(tail, 2);
        double liveHeapSlope = slope(tail, 3);
        return String.format(Locale.ROOT, "{\"part\":\"memory over a long run\",\"exit_code\":%d,\"steps\":%d,"
                        + "\"seconds\":%.1f,\"fit_from_step\":%d,\"physical_bytes_first\":%.0f,\"physical_bytes_last\":%.0f,"
                        + "\"physical_slope_bytes_per_step\":%.1f,\"physical_slope_mib_per_1000_steps\":%.3f,"
                        + "\"heap_slope_bytes_per_step\":%.1f,\"heap_slope_mib_per_1000_steps\":%.3f,"
                        + "\"heap_after_gc_slope_mib_per_1000_steps\":%.3f}",
                rc, rows.size(), seconds, (int) tail.get(0)[0], tail.get(0)[1], tail.get(tail.size() - 1)[1],
                physicalSlope, physicalSlope * 1000 / (1 << 20), heapSlope, heapSlope * 1000 / (1 << 20),
                liveHeapSlope * 1000 / (1 << 20));
    }

    /** Least-squares slope of column {@code y} against column 0. */
    static double slope(List<double[]> rows, int y) {
        double n = rows.size();
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (double[] r : rows) {
            sx += r[0];
            sy += r[y];
            sxx += r[0] * r[0];
            sxy += r[0] * r[y];
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }
}
