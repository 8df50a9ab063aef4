package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.train.backend.CpuBuild;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Spreads an experiment's runs over worker JVMs (one ND4J thread each, so two workers use two cores): worker i of
 * n does runs i, i+n, ... and writes its records to a part file; the parent merges them. Separate processes, not
 * threads, because SameDiff sessions and ND4J's native memory are per process.
 */
final class ShardedRuns {
    private final int workers;
    private final Path out;

    ShardedRuns(int workers, Path out) {
        this.workers = workers;
        this.out = out;
    }

    /** Adds the records of every part-*.json in {@code parts}. */
    static void merge(ObjectMapper json, Path parts, ArrayNode records, ArrayNode curves, ArrayNode variance)
            throws IOException {
        try (var files = Files.list(parts)) {
            for (Path f : files.filter(x -> x.getFileName().toString().matches("part-\\d+\\.json")).sorted().toList()) {
                JsonNode p = json.readTree(f.toFile());
                p.get("records").forEach(records::add);
                p.get("curves").forEach(curves::add);
                p.get("gradient_variance").forEach(variance::add);
            }
        }
    }

    void run(ObjectMapper json, List<String> arguments, ArrayNode records, ArrayNode curves, ArrayNode variance) {
        Path dir = out.toAbsolutePath().normalize();
        Path parts = dir.resolveSibling(dir.getFileName() + ".parts-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(parts);
            List<Process> processes = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                List<String> args = new ArrayList<>(arguments);
                args.addAll(List.of("--shard", i + "/" + workers, "--part", parts.resolve("part-" + i + ".json").toString()));
                processes.add(ChildJvm.of(ExperimentCommand.class, args).inheritingJvmOptions(CpuBuild.PROPERTY)
                        .processBuilder().inheritIO().start());
            }
            for (int i = 0; i < workers; i++) {
                int rc = processes.get(i).waitFor();
                if (rc != 0) {
                    processes.forEach(Process::destroy);
                    throw new IllegalStateException("experiment worker " + i + " of " + workers + " failed (exit "
                            + rc + "); its output is above");
                }
            }
            merge(json, parts, records, curves, variance);
            for (int i = 0; i < workers; i++) {
                Files.delete(parts.resolve("part-" + i + ".json"));
            }
            Files.delete(parts);
        } catch (IOException e) {
            throw new UncheckedIOException("experiment workers: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the experiment workers", e);
        }
    }
}
