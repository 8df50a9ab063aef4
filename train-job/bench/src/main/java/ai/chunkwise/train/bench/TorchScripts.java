package ai.chunkwise.train.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The PyTorch scripts carried inside the benchmark jar (train-job/bench/tools), copied out to a temporary folder
 * to run, and the line a suite prints when the interpreter has no torch.
 */
final class TorchScripts implements AutoCloseable {
    private final Path dir;

    private TorchScripts(Path dir) {
        this.dir = dir;
    }

    /** Copies the named scripts into a new temporary folder (side by side, so one can import another). */
    static TorchScripts extract(String... resources) throws IOException {
        TorchScripts scripts = new TorchScripts(Files.createTempDirectory("chunkwise-torch"));
        for (String resource : resources) {
            try (InputStream in = TorchScripts.class.getResourceAsStream(resource)) {
                if (in == null) {
                    scripts.close();
                    throw new IllegalStateException(resource + " is missing from the benchmark jar: rebuild it");
                }
                Files.copy(in, scripts.dir.resolve(resource), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return scripts;
    }

    Path path(String resource) {
        return dir.resolve(resource);
    }

    /**
     * {@code python resource args... --threads 1} with OpenMP and OpenBLAS held to one thread too (torch's own
     * setting does not reach OpenBLAS), its error output merged into its output.
     */
    ProcessBuilder oneThread(String python, String resource, String... args) {
        List<String> command = new ArrayList<>(List.of(python, path(resource).toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--threads", "1"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        return pb;
    }

    /** Prints that PyTorch could not run, under {@code key = value} (the line's label in its suite). */
    static void emitUnavailable(BenchCommand bench, String suite, String key, String value) {
        ObjectNode n = bench.result(suite);
        n.put(key, value);
        n.put("status", "unavailable");
        n.put("python", bench.python());
        n.put("hint", "run train-job/bench/tools/install-torch-cpu.sh (Debian python3-torch + "
                + "libopenblas0-pthread), or name an interpreter that has torch with --python");
        bench.emit(n);
    }

    @Override
    public void close() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
