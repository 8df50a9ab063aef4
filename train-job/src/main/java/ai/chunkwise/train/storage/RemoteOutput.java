package ai.chunkwise.train.storage;

import ai.chunkwise.pipeline.lock.HadoopOutputLock;
import ai.chunkwise.pipeline.lock.HeldLock;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A training output directory on a Hadoop file system (hdfs://, s3a://, ...): the trainer works in a local
 * staging directory (the checkpoint code, its checksums and its fallback stay the local ones) and this class
 * mirrors it. At start it pulls the published checkpoints; each checkpoint is then published the same way as
 * locally: copied under a temporary name ({@code checkpoints/.step-N.tmp-*}), renamed into place, and then
 * {@code latest}, {@code metrics.jsonl} and {@code report.json} are each written under a temporary name and renamed
 * over the old one. On HDFS both renames are atomic; on object stores without atomic rename (S3) a directory
 * rename is a copy, so a crash can leave a partial step directory, which the checksums catch on resume
 * (docs/reliability.md says what is and is not guaranteed there).
 */
public final class RemoteOutput {
    private static final Pattern STEP_DIR = Pattern.compile("step-\\d{6,}");
    /** What {@link #temporary} names (as CheckpointStore's orphans locally). */
    private static final Pattern ORPHAN = Pattern.compile(
            "\\.(step-\\d{6,}|latest|metrics\\.jsonl|report\\.json)\\.tmp-\\d+--?\\d+");

    private final FileSystem fs;
    private final FileContext fc;
    private final org.apache.hadoop.fs.Path root;
    private final Path staging;

    private RemoteOutput(FileSystem fs, FileContext fc, org.apache.hadoop.fs.Path root, Path staging) {
        this.fs = fs;
        this.fc = fc;
        this.root = root;
        this.staging = staging;
    }

    /** Whether {@code location} names a non-local Hadoop file system (a scheme other than file:). */
    public static boolean isRemote(String location) {
        URI uri = toUri(location);
        return uri != null && uri.getScheme() != null && uri.getScheme().length() > 1 && !"file".equals(uri.getScheme());
    }

    /** The local path of a plain path or a {@code file:} URI. */
    public static Path localPath(String location) {
        URI uri = toUri(location);
        if (uri != null && "file".equals(uri.getScheme())) {
            return Path.of(uri);
        }
        return Path.of(location);
    }

    private static URI toUri(String location) {
        try {
            return new URI(location);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    /** The local staging directory of a remote output: under java.io.tmpdir, named after the URI. */
    public static Path stagingDirOf(String location) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(location.getBytes(StandardCharsets.UTF_8));
            return Path.of(System.getProperty("java.io.tmpdir"), "chunkwise-staging",
                    HexFormat.of().formatHex(h, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    public static RemoteOutput open(String location, Path staging, Configuration conf) {
        try {
            org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location);
            FileSystem fs = root.getFileSystem(conf);
            root = fs.makeQualified(root);
            fs.mkdirs(new org.apache.hadoop.fs.Path(root, "checkpoints"));
            return new RemoteOutput(fs, FileContext.getFileContext(fs.getUri(), conf), root, staging);
        } catch (IOException | RuntimeException e) {
            // RuntimeException: Hadoop reports a scheme without its client (s3a:// without hadoop-aws) as one
            throw new UncheckedIOException("cannot open output " + location + " (" + e.getMessage()
                    + "): give a reachable, writable Hadoop file system location as train.output, with its Hadoop "
                    + "client (e.g. hadoop-aws for s3a://) on the class path", e instanceof IOException io ? io
                    : new IOException(e));
        }
    }

    /**
     * Locks a remote output for one trainer ({@link HadoopOutputLock}: exclusive create, heartbeat, takeover of a
     * dead holder's lock): the local staging directory's lock excludes runs on one machine only.
     */
    public static HeldLock lock(String location, Configuration conf, Consumer<String> notes) {
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location);
        FileSystem fs;
        try {
            fs = root.getFileSystem(conf);
        } catch (IOException | RuntimeException e) {
            // RuntimeException: Hadoop reports a scheme without its client (s3a:// without hadoop-aws) as one
            throw new UncheckedIOException("cannot open output " + location + " to lock it (" + e.getMessage()
                    + "): give a reachable, writable Hadoop file system location as train.output, with its Hadoop "
                    + "client (e.g. hadoop-aws for s3a://) on the class path", e instanceof IOException io ? io
                    : new IOException(e));
        }
        return HadoopOutputLock.acquire(fs, fs.makeQualified(root), "train", notes);   // "in use" passes through
    }

    /**
     * Removes the temporary names a killed run left on the remote file system ({@code checkpoints/.step-N.tmp-*},
     * {@code .latest.tmp-*}, {@code .metrics.jsonl.tmp-*}, {@code .report.json.tmp-*}). Only call this while holding
     * the remote lock: another live run's temporaries look exactly the same.
     *
     * @return the removed paths
     */
    public List<org.apache.hadoop.fs.Path> removeOrphans() {
        List<org.apache.hadoop.fs.Path> removed = new java.util.ArrayList<>();
        for (org.apache.hadoop.fs.Path dir : List.of(new org.apache.hadoop.fs.Path(root, "checkpoints"), root)) {
            try {
                if (!fs.exists(dir)) {
                    continue;
                }
                for (FileStatus st : fs.listStatus(dir)) {
                    if (ORPHAN.matcher(st.getPath().getName()).matches()) {
                        fs.delete(st.getPath(), true);
                        removed.add(st.getPath());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot clean up the temporaries of " + dir + ": " + e.getMessage(), e);
            }
        }
        return removed;
    }

    public Path staging() {
        return staging;
    }

    /**
     * Replaces the staging directory's content by the published checkpoints ({@code latest} and every step
     * directory) and metrics: what is published is the truth.
     */
    public void pull() {
        try {
            deleteLocal(staging);
            Files.createDirectories(staging.resolve("checkpoints"));
            org.apache.hadoop.fs.Path cp = new org.apache.hadoop.fs.Path(root, "checkpoints");
            for (FileStatus st : fs.listStatus(cp)) {
                String name = st.getPath().getName();
                if (name.equals("latest") || STEP_DIR.matcher(name).matches()) {
                    fs.copyToLocalFile(false, st.getPath(), local(staging.resolve("checkpoints").resolve(name)), true);
                }
            }
            org.apache.hadoop.fs.Path metrics = new org.apache.hadoop.fs.Path(root, "metrics.jsonl");
            if (fs.exists(metrics)) {
                fs.copyToLocalFile(false, metrics, local(staging.resolve("metrics.jsonl")), true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the checkpoints of " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * Publishes a checkpoint written locally: copied under a temporary name, then renamed into place (an existing
     * one of the same step, a damaged one being rewritten, is renamed aside first and deleted after), then
     * {@code latest} replaced, then step directories deleted locally by rotation deleted here too.
     */
    public void publishCheckpoint(Path localStepDir, Set<String> keptSteps) {
        String name = localStepDir.getFileName().toString();
        org.apache.hadoop.fs.Path cp = new org.apache.hadoop.fs.Path(root, "checkpoints");
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(cp, name);
        org.apache.hadoop.fs.Path tmp = temporary(cp, name);
        try {
            fs.copyFromLocalFile(false, true, local(localStepDir), tmp);
            if (fs.exists(target)) {
                org.apache.hadoop.fs.Path aside = temporary(cp, name);
                rename(target, aside);
                rename(tmp, target);
                fs.delete(aside, true);
            } else {
                rename(tmp, target);
            }
            publishFile("checkpoints/latest");
            for (FileStatus st : fs.listStatus(cp)) {
                String n = st.getPath().getName();
                if (STEP_DIR.matcher(n).matches() && !keptSteps.contains(n)) {
                    fs.delete(st.getPath(), true);
                }
            }
        } catch (IOException e) {
            try {
                fs.delete(tmp, true);
            } catch (IOException ignored) {
                // the original error is the one worth reporting; a leftover temporary name is never trusted
            }
            throw new UncheckedIOException("cannot publish checkpoint " + name + " to " + root + ": " + e.getMessage()
                    + " (the previous checkpoint is intact)", e);
        }
    }

    /** Publishes one staged file (e.g. {@code metrics.jsonl}): temporary name, then an overwriting rename. */
    public void publishFile(String relative) {
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(root, relative);
        org.apache.hadoop.fs.Path tmp = temporary(target.getParent(), target.getName());
        try {
            fs.copyFromLocalFile(false, true, local(staging.resolve(relative)), tmp);
            fc.rename(tmp, target, Options.Rename.OVERWRITE);
        } catch (IOException e) {
            try {
                fs.delete(tmp, false);
            } catch (IOException ignored) {
                // as above
            }
            throw new UncheckedIOException("cannot publish " + target + ": " + e.getMessage(), e);
        }
    }

    /** Step directory names present locally after rotation. */
    public static Set<String> names(List<Path> stepDirs) {
        return stepDirs.stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }

    private void rename(org.apache.hadoop.fs.Path from, org.apache.hadoop.fs.Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename of " + from + " to " + to + " returned false");
        }
    }

    private static org.apache.hadoop.fs.Path temporary(org.apache.hadoop.fs.Path dir, String name) {
        return new org.apache.hadoop.fs.Path(dir, "." + name + ".tmp-" + ProcessHandle.current().pid() + "-"
                + System.nanoTime());
    }

    private static org.apache.hadoop.fs.Path local(Path p) {
        return new org.apache.hadoop.fs.Path(p.toAbsolutePath().toUri());
    }

    private static void deleteLocal(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
