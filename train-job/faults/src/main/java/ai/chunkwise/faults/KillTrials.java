package ai.chunkwise.faults;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.train.checkpoint.CheckpointChecksums;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * kill -9 at random moments of tokenize-job and train, then recovery: a re-run (tokenize) or --resume (train)
 * must finish with output bit-identical to an uninterrupted run, and nothing published before the kill may be
 * lost (every published checkpoint still verifies; an overwritten dataset is either the old or the new one).
 */
final class KillTrials {
    static final String TOKENIZE_MAIN = "ai.chunkwise.tokenize.TokenizeJob";
    static final String TRAIN_MAIN = "ai.chunkwise.train.cli.TrainCli";
    static final int TRAIN_STEPS = 4;

    private final Path work;
    private final SplittableRandom random;
    private final java.io.PrintStream log;

    /**
     * A job (tokenize-job or train) as its own JVM, to be killed with SIGKILL: a small heap and a JavaCPP limit.
     * The tokenize job runs without train-job.jar and pipeline.jar on its class path: train-job.jar's manifest
     * Class-Path brings ND4J's commons-lang3 3.11 ahead of Spark's 3.17 (Spark then fails: NoSuchFieldError
     * JAVA_21), and pipeline.jar's classes use the plain picocli that tokenize-job.jar (which carries them) relocates.
     */
    static ChildJvm job(String mainClass, List<String> args) {
        ChildJvm job = ChildJvm.of(mainClass, args)
                .withJvmOptions(List.of("-Xmx1g", "-XX:+UseSerialGC", "-Dorg.bytedeco.javacpp.maxphysicalbytes=4G"));
        if (mainClass.equals(TOKENIZE_MAIN)) {
            job.withoutClassPathEntries(entry -> entry.endsWith("train-job.jar") || entry.endsWith("pipeline.jar"));
        }
        return job;
    }

    KillTrials(Path work, long seed, java.io.PrintStream log) {
        this.work = work;
        this.random = new SplittableRandom(seed);
        this.log = log;
    }

    // ---------------------------------------------------------------- tokenize-job

    private List<String> tokenizeArgs(Path input, Path output, boolean overwrite) {
        List<String> a = new ArrayList<>(List.of("--input", input.toString(), "--format", "lines", "--output",
                output.toString(), "--tokenizer", "bytes", "--chunk-size", String.valueOf(Fixtures.CHUNK),
                "--chunks-per-seq", String.valueOf(Fixtures.CHUNKS), "--shards", "3", "--master", "local[1]"));
        if (overwrite) {
            a.add("--overwrite");
        }
        return a;
    }

    /** Reference run, then {@code trials} killed runs: fresh outputs and --overwrite of a complete dataset. */
    Tally tokenize(int trials, boolean withOverwrite) {
        Tally t = new Tally("kill -9 tokenize-job");
        Path input = Fixtures.corpus(work.resolve("corpus"), 4, 1500, 7);
        Path reference = work.resolve("tok-reference");
        long t0 = System.nanoTime();
        int code = job(TOKENIZE_MAIN, tokenizeArgs(input, reference, false)).run(work.resolve("tok-reference.log"), 600);
        double refSeconds = (System.nanoTime() - t0) / 1e9;
        if (code != 0) {
            throw new IllegalStateException("reference tokenize run failed (exit " + code + ", log "
                    + work.resolve("tok-reference.log") + ")");
        }
        List<String> refShards = shardContents(manifestOf(reference));
        long refBytes = Fixtures.sizeOf(reference);
        for (int i = 0; i < trials; i++) {
            boolean overwrite = withOverwrite && i % 2 == 1;
            Path out = work.resolve("tok-trial-" + i);
            Fixtures.deleteTree(out);
            if (overwrite) {
                Fixtures.copyTree(reference, out);
            }
            double delay = refSeconds * (0.15 + 0.85 * random.nextDouble());
            Path logFile = work.resolve("tok-trial-" + i + ".log");
            Process p = job(TOKENIZE_MAIN, tokenizeArgs(input, out, overwrite)).start(logFile);
            boolean killed = sleepThenKill(p, delay);
            t.trials++;
            long lost = 0;
            if (overwrite && !opens(out)) {
                lost = refBytes;   // the old dataset is gone and the new one is not complete
                t.note("trial " + i + " (--overwrite, kill at " + round(delay) + " s): no complete dataset after the kill");
            }
            t.bytesLost += lost;
            // issue 20: _SUCCESS is replaced by a rename, so after any kill it is absent or whole
            String marker = successMarker(out);
            if (marker != null && !marker.endsWith("}\n")) {
                t.markersWrong++;
                t.note("trial " + i + ": _SUCCESS after the kill is '" + marker + "' (empty or partial)");
            }
            // recovery: a re-run (with --overwrite when a complete dataset is already there)
            int rc = job(TOKENIZE_MAIN, tokenizeArgs(input, out, opens(out)))
                    .run(work.resolve("tok-trial-" + i + "-rerun.log"), 600);
            if (rc != 0 || !opens(out)) {
                t.recoveryFailed++;
                t.note("trial " + i + ": re-run exit " + rc);
                continue;
            }
            Manifest recovered = manifestOf(out);
            String after = successMarker(out);
            if (after == null || !after.startsWith("{\"version\":" + recovered.datasetVersion().number() + ",")) {
                t.markersWrong++;
                t.note("trial " + i + ": after recovery _SUCCESS is '" + after + "', manifest.json is version "
                        + recovered.datasetVersion().number());
            }
            boolean same = shardContents(recovered).equals(refShards);
            if (same) {
                t.bitExact++;
            } else {
                t.note("trial " + i + ": shards differ from the uninterrupted run");
            }
            log.printf("tokenize trial %d: %s at %.1f s (%s), lost %d bytes, %s%n", i, killed ? "killed" : "finished before",
                    delay, overwrite ? "--overwrite" : "fresh output", lost, same ? "bit-exact" : "DIFFERS");
            Fixtures.deleteTree(out);
        }
        return t;
    }

    /** The dataset's _SUCCESS as text, or null when there is none. */
    private static String successMarker(Path dataset) {
        try {
            Path f = dataset.resolve("_SUCCESS");
            return Files.exists(f) ? Files.readString(f) : null;
        } catch (java.io.IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    private static boolean opens(Path dataset) {
        try (DatasetReader r = DatasetReader.open(dataset)) {
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Each shard's file name, rows, tokens, bytes and SHA-256, without its version directory: a re-run with
     * --overwrite publishes the same bytes as a new version (v0002/...), which is the expected recovery.
     */
    private static List<String> shardContents(Manifest manifest) {
        return manifest.shards().stream().map(s -> s.path().substring(s.path().lastIndexOf('/') + 1) + " " + s.rows()
                + " " + s.tokens() + " " + s.bytes() + " " + s.sha256()).toList();
    }

    private static Manifest manifestOf(Path dataset) {
        try (DatasetReader r = DatasetReader.open(dataset)) {
            return r.manifest();
        }
    }

    // ---------------------------------------------------------------- train

    private List<String> trainArgs(Path dataset, Path config, Path out) {
        return List.of("train", "--dataset", dataset.toString(), "--init-config", config.toString(), "--out",
                out.toString(), "--steps", String.valueOf(TRAIN_STEPS), "--resume", "--set", "train.model.dtype=float64",
                "--set", "train.checkpoint-every=1", "--set", "train.keep-checkpoints=2", "--set",
                "train.optimizer.lr=0.01", "--set", "train.method.name=seco");
    }

    /**
     * Reference run, then {@code trials} killed runs: a third killed as soon as a checkpoint's temporary directory
     * appears (mid-checkpoint), a third as soon as latest's temporary file appears, the rest at a random moment.
     */
    Tally train(int trials) {
        Tally t = new Tally("kill -9 train");
        Path dataset = work.resolve("train-ds");
        if (!Files.exists(dataset)) {
            Fixtures.dataset(dataset, 60, 3);
        }
        Path config = Fixtures.modelConfig(work.resolve("tiny-bytes.json"));
        Path reference = work.resolve("train-reference");
        Fixtures.deleteTree(reference);
        long t0 = System.nanoTime();
        int code = job(TRAIN_MAIN, trainArgs(dataset, config, reference)).run(work.resolve("train-reference.log"), 600);
        double refSeconds = (System.nanoTime() - t0) / 1e9;
        if (code != 0) {
            throw new IllegalStateException("reference train run failed (exit " + code + ", log "
                    + work.resolve("train-reference.log") + ")");
        }
        String last = String.format("checkpoints/step-%06d", TRAIN_STEPS);
        for (int i = 0; i < trials; i++) {
            Path out = work.resolve("train-trial-" + i);
            Fixtures.deleteTree(out);
            Path logFile = work.resolve("train-trial-" + i + ".log");
            Process p = job(TRAIN_MAIN, trainArgs(dataset, config, out)).start(logFile);
            String how;
            boolean killed;
            if (i % 3 == 0) {
                how = "mid-checkpoint";
                killed = killWhenAppears(p, out.resolve("checkpoints"), ".step-", 1 + random.nextInt(TRAIN_STEPS - 1), refSeconds * 3);
            } else if (i % 3 == 1) {
                how = "while replacing latest";
                killed = killWhenAppears(p, out.resolve("checkpoints"), ".latest.tmp-", 1 + random.nextInt(TRAIN_STEPS - 1), refSeconds * 3);
            } else {
                double delay = refSeconds * random.nextDouble();
                how = "at " + round(delay) + " s";
                killed = sleepThenKill(p, delay);
            }
            t.trials++;
            long lost = damagedPublishedBytes(out, t, i);
            t.bytesLost += lost;
            int rc = job(TRAIN_MAIN, trainArgs(dataset, config, out))
                    .run(work.resolve("train-trial-" + i + "-resume.log"), 600);
            if (rc != 0) {
                t.recoveryFailed++;
                t.note("trial " + i + " (" + how + "): resume exit " + rc);
                continue;
            }
            boolean same = true;
            for (String f : List.of("model/model.safetensors", "optimizer.safetensors", "trainer_state.json")) {
                same &= Arrays.equals(bytes(reference.resolve(last).resolve(f)), bytes(out.resolve(last).resolve(f)));
            }
            same &= losses(reference).equals(losses(out));
            if (same) {
                t.bitExact++;
            } else {
                t.note("trial " + i + " (" + how + "): final checkpoint or loss curve differs");
            }
            log.printf("train trial %d: %s %s, lost %d bytes, %s%n", i, killed ? "killed" : "finished before kill", how,
                    lost, same ? "bit-exact" : "DIFFERS");
            Fixtures.deleteTree(out);
        }
        return t;
    }

    /** Bytes of published checkpoints (step directories under their final name) that no longer verify. */
    private static long damagedPublishedBytes(Path out, Tally t, int trial) {
        Path cp = out.resolve("checkpoints");
        if (!Files.isDirectory(cp)) {
            return 0;
        }
        long lost = 0;
        try (Stream<Path> list = Files.list(cp)) {
            for (Path d : list.filter(p -> p.getFileName().toString().matches("step-\\d{6,}")).toList()) {
                try {
                    CheckpointChecksums.verify(d);
                } catch (RuntimeException e) {
                    lost += Fixtures.sizeOf(d);
                    t.note("trial " + trial + ": published " + d.getFileName() + " damaged: " + e.getMessage());
                }
            }
            Path latest = cp.resolve("latest");
            if (Files.exists(latest)) {
                String name = Files.readString(latest).trim();
                if (!Files.isDirectory(cp.resolve(name))) {
                    t.note("trial " + trial + ": latest names a missing " + name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return lost;
    }

    private static List<String> losses(Path out) {
        try {
            List<String> l = new ArrayList<>();
            for (String line : Files.readAllLines(out.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
                int i = line.indexOf("\"loss\":");
                l.add(i < 0 ? line : line.substring(i, line.indexOf(',', i)));
            }
            return l;
        } catch (IOException e) {
            return List.of("unreadable: " + e.getMessage());
        }
    }

    /** Kills the process as soon as a name starting with {@code prefix} appears in {@code dir} for the n-th time. */
    private static boolean killWhenAppears(Process p, Path dir, String prefix, int nth, double timeoutSeconds) {
        long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    for (Path f : s.toList()) {
                        String n = f.getFileName().toString();
                        if (n.startsWith(prefix) && seen.add(n) && seen.size() >= nth) {
                            ChildJvm.kill(p);
                            return true;
                        }
                    }
                } catch (IOException | UncheckedIOException e) {
                    // the directory changes while it is listed: look again
                }
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean alive = p.isAlive();
        ChildJvm.kill(p);
        return alive;
    }

    private static boolean sleepThenKill(Process p, double seconds) {
        try {
            if (p.waitFor((long) (seconds * 1000), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ChildJvm.kill(p);
        return true;
    }

    private static byte[] bytes(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static String round(double s) {
        return String.format(java.util.Locale.ROOT, "%.1f", s);
    }
}
