package ai.chunkwise.faults;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.train.checkpoint.CheckpointChecksums;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Disk full while writing a checkpoint and while writing shards: a size-limited tmpfs mounted for the test (needs
 * root, checked first). The job must fail with a clear error and leave what was published before intact.
 */
final class DiskFull {
    private final Path work;
    private final java.io.PrintStream log;

    DiskFull(Path work, java.io.PrintStream log) {
        this.work = work;
        this.log = log;
    }

    /** Mounts a tmpfs of {@code size} at {@code dir}; false where the machine does not allow it. */
    static boolean mount(Path dir, String size) {
        try {
            Files.createDirectories(dir);
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                    .redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void unmount(Path dir) {
        try {
            new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // nothing mounted
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One JSON line per case. */
    List<String> run() {
        List<String> lines = new ArrayList<>();
        Path mountPoint = work.resolve("diskfull-train");
        if (!mount(mountPoint, "1m")) {
            lines.add("{\"part\":\"disk full\",\"run\":false,\"why\":\"cannot mount a size-limited tmpfs here (needs root)\"}");
            return lines;
        }
        try {
            lines.add(trainCase(mountPoint));
        } finally {
            unmount(mountPoint);
        }
        Path tokMount = work.resolve("diskfull-tokenize");
        if (mount(tokMount, "400k")) {
            try {
                lines.add(tokenizeCase(tokMount));
            } finally {
                unmount(tokMount);
            }
        }
        return lines;
    }

    private String trainCase(Path fs) {
        Path dataset = work.resolve("train-ds");
        if (!Files.exists(dataset)) {
            Fixtures.dataset(dataset, 60, 3);
        }
        Path config = Fixtures.modelConfig(work.resolve("tiny-bytes.json"));
        Path out = fs.resolve("out");
        Path logFile = work.resolve("diskfull-train.log");
        int rc = KillTrials.job(KillTrials.TRAIN_MAIN, List.of("train", "--dataset", dataset.toString(), "--init-config",
                config.toString(), "--out", out.toString(), "--steps", "40", "--set", "train.model.dtype=float64",
                "--set", "train.checkpoint-every=1", "--set", "train.keep-checkpoints=0")).run(logFile, 600);
        String error = lastErrorLine(logFile);
        int published = 0;
        int intact = 0;
        int temporaries = 0;
        try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            for (Path d : s.toList()) {
                String n = d.getFileName().toString();
                if (n.matches("step-\\d{6,}")) {
                    published++;
                    try {
                        CheckpointChecksums.verify(d);
                        intact++;
                    } catch (RuntimeException e) {
                        log.println("disk full: " + n + " damaged: " + e.getMessage());
                    }
                } else if (n.contains(".tmp-")) {
                    temporaries++;
                }
            }
        } catch (IOException e) {
            error += " (cannot list checkpoints: " + e.getMessage() + ")";
        }
        String latest = read(out.resolve("checkpoints/latest")).trim();
        boolean latestOk = !latest.isEmpty() && Files.isDirectory(out.resolve("checkpoints").resolve(latest));
        return String.format(Locale.ROOT, "{\"part\":\"disk full: checkpoint\",\"exit_code\":%d,\"error\":\"%s\","
                        + "\"checkpoints_published\":%d,\"checkpoints_intact\":%d,\"temporaries_left\":%d,"
                        + "\"latest\":\"%s\",\"latest_names_a_checkpoint\":%b}", rc, esc(error), published, intact,
                temporaries, esc(latest), latestOk);
    }

    private String tokenizeCase(Path fs) {
        // a previous dataset on the same (small) file system, then a larger job that cannot fit
        Path old = fs.resolve("old-ds");
        Fixtures.dataset(old, 20, 9);
        List<String> before = shardShas(old);
        Path input = Fixtures.corpus(work.resolve("corpus-big"), 2, 4000, 11);
        Path out = fs.resolve("new-ds");
        Path logFile = work.resolve("diskfull-tokenize.log");
        int rc = KillTrials.job(KillTrials.TOKENIZE_MAIN, List.of("--input", input.toString(), "--format", "lines",
                "--output", out.toString(), "--tokenizer", "bytes", "--chunk-size", "16", "--chunks-per-seq", "4",
                "--shards", "2", "--master", "local[1]")).run(logFile, 600);
        boolean oldIntact = shardShas(old).equals(before) && opens(old);
        boolean newManifest = Files.exists(out.resolve(Manifest.FILE_NAME));
        return String.format(Locale.ROOT, "{\"part\":\"disk full: shards\",\"exit_code\":%d,\"error\":\"%s\","
                        + "\"previous_dataset_intact\":%b,\"half_dataset_published\":%b}", rc, esc(lastErrorLine(logFile)),
                oldIntact, newManifest);
    }

    private static boolean opens(Path d) {
        try (DatasetReader r = DatasetReader.open(d)) {
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static List<String> shardShas(Path d) {
        try (DatasetReader r = DatasetReader.open(d)) {
            return r.manifest().shards().stream().map(s -> s.sha256()).toList();
        } catch (RuntimeException e) {
            return List.of("unreadable");
        }
    }

    private static String lastErrorLine(Path log) {
        String last = "";
        try {
            for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (l.contains("error") || l.contains("No space")) {
                    last = l;
                }
            }
        } catch (IOException e) {
            return "no log";
        }
        return last.length() > 300 ? last.substring(0, 300) : last;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
