package ai.chunkwise.train.storage;

import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigUtil;
import ai.chunkwise.pipeline.lock.HadoopOutputLock;
import ai.chunkwise.pipeline.lock.OutputLockedException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 7: checkpoints and the training output on a Hadoop file system (file:// and an in-process HDFS). */
class RemoteOutputTest {
    /** One in-process HDFS for the class: starting one costs more than the tiny training runs on it. */
    private static MiniDFSCluster cluster;
    @TempDir
    static Path dfsDir;

    @org.junit.jupiter.api.BeforeAll
    static void startHdfs() throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dfsDir.resolve("dfs").toString());
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    }

    @org.junit.jupiter.api.AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    private static Map<String, String> base(Path tmp, String output) {
        Path config = tmp.resolve("tiny-config.json");
        ai.chunkwise.train.checkpoint.AtomicFiles.writeString(config, TinyDatasets.tinyModel().toJson());
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", ConfigUtil.quoteString(TinyDatasets.write(tmp.resolve("ds"), 6).toString()));
        o.put("train.model.init-config", ConfigUtil.quoteString(config.toString()));
        o.put("train.output", ConfigUtil.quoteString(output));
        o.put("train.model.dtype", "float64");
        o.put("train.optimizer.lr", "0.01");
        o.put("train.checkpoint-every", "1");
        o.put("train.keep-checkpoints", "2");
        return o;
    }

    private static ObjectNode train(Map<String, String> o, boolean resume, PrintStream console) {
        return new Trainer(TrainSettings.load(null, o), console).run(resume, Long.MAX_VALUE, false);
    }

    @Test
    void aFileUriOutputIsTheLocalDirectory(@TempDir Path tmp) {
        Map<String, String> o = base(tmp, tmp.resolve("out").toUri().toString());   // file:///...
        o.put("train.steps", "1");
        train(o, false, new PrintStream(new ByteArrayOutputStream()));
        assertTrue(Files.isRegularFile(tmp.resolve("out/checkpoints/step-000001/checksums.sha256")));
        assertEquals("step-000001", read(tmp.resolve("out/checkpoints/latest")).trim());
    }

    @Test
    void checkpointsOnHdfsArePublishedByRenameRotatedAndResumedFromBitExactly(@TempDir Path tmp) throws Exception {
        {
            FileSystem fs = cluster.getFileSystem();
            String out = fs.getUri() + "/runs/a";
            Map<String, String> o = base(tmp, out);

            // the reference: the same run, uninterrupted, on the local disk
            Map<String, String> local = new LinkedHashMap<>(o);
            local.put("train.output", ConfigUtil.quoteString(tmp.resolve("local").toString()));
            local.put("train.steps", "3");
            train(local, false, new PrintStream(new ByteArrayOutputStream()));

            o.put("train.steps", "2");
            train(o, false, new PrintStream(new ByteArrayOutputStream()));
            org.apache.hadoop.fs.Path cp = new org.apache.hadoop.fs.Path(out + "/checkpoints");
            assertEquals("step-000002", text(fs, new org.apache.hadoop.fs.Path(cp, "latest")).trim());
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path(cp, "step-000002/checksums.sha256")));
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path(out + "/report.json")));
            for (var st : fs.listStatus(cp)) {
                assertFalse(st.getPath().getName().contains(".tmp-"), "no temporary name left: " + st.getPath());
            }

            // a damaged newest checkpoint on HDFS: resume falls back to step 1, then continues to step 3
            org.apache.hadoop.fs.Path opt = new org.apache.hadoop.fs.Path(cp, "step-000002/optimizer.safetensors");
            byte[] whole = bytes(fs, opt);
            try (FSDataOutputStream w = fs.create(opt, true)) {
                w.write(whole, 0, whole.length / 2);
            }
            deleteLocal(RemoteOutput.stagingDirOf(out));   // another machine: nothing staged
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            o.put("train.steps", "3");
            ObjectNode report = train(o, true, new PrintStream(console, true, StandardCharsets.UTF_8));
            assertEquals(1, report.get("resumed_from_step").asInt(), console.toString(StandardCharsets.UTF_8));
            assertTrue(console.toString(StandardCharsets.UTF_8).contains("step-000002"));
            assertEquals("step-000003", text(fs, new org.apache.hadoop.fs.Path(cp, "latest")).trim());
            assertFalse(fs.exists(new org.apache.hadoop.fs.Path(cp, "step-000001")), "rotation (keep 2) on HDFS too");
            for (String f : new String[] {"model/model.safetensors", "optimizer.safetensors", "trainer_state.json"}) {
                assertArrayEquals(Files.readAllBytes(tmp.resolve("local/checkpoints/step-000003").resolve(f)),
                        bytes(fs, new org.apache.hadoop.fs.Path(cp, "step-000003/" + f)), f);
            }
        }
    }

    @Test
    void aDiskThatFillsUpWhilePublishingACheckpointFailsClearlyAndKeepsThePreviousOne(@TempDir Path tmp) throws Exception {
        Configuration.addDefaultResource("fullfs-site.xml");
        String out = FullDiskFileSystem.SCHEME + "://" + tmp.resolve("remote").toAbsolutePath();
        Map<String, String> o = base(tmp, out);
        o.put("train.steps", "3");
        o.put("train.keep-checkpoints", "0");
        // room for the first checkpoint (about 0.14 MB in float64) and latest, not for the second
        FullDiskFileSystem.BUDGET.set(200_000);
        try {
            java.io.UncheckedIOException e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.io.UncheckedIOException.class, () -> train(o, false, new PrintStream(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("cannot publish checkpoint step-000002")
                    && e.getMessage().contains("No space left on device")
                    && e.getMessage().contains("the previous checkpoint is intact"), e.getMessage());
        } finally {
            FullDiskFileSystem.BUDGET.set(Long.MAX_VALUE);
        }
        Path cp = tmp.resolve("remote/checkpoints");
        assertEquals("step-000001", read(cp.resolve("latest")).trim());
        ai.chunkwise.train.checkpoint.CheckpointChecksums.verify(cp.resolve("step-000001"));   // throws if damaged
        assertFalse(Files.exists(cp.resolve("step-000002")));
        try (var list = Files.list(cp)) {
            assertTrue(list.noneMatch(p -> p.getFileName().toString().contains(".tmp-")), "temporaries removed");
        }
    }

    @Test
    void aRemoteOutputIsLockedAndAKilledRunsRemoteTemporariesAreRemovedUnderTheLock(@TempDir Path tmp) throws Exception {
        // issue 20's reliability leftovers: the lock and the orphan clean-up on hdfs:// as on a local output
        FileSystem fs = cluster.getFileSystem();
        String out = fs.getUri() + "/runs/locked";
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(out);
        org.apache.hadoop.fs.Path cp = new org.apache.hadoop.fs.Path(out + "/checkpoints");
        Map<String, String> o = base(tmp, out);
        o.put("train.steps", "1");
        org.apache.hadoop.fs.Path orphan = new org.apache.hadoop.fs.Path(cp, ".step-000009.tmp-4242-17");
        org.apache.hadoop.fs.Path orphanLatest = new org.apache.hadoop.fs.Path(cp, ".latest.tmp-4242-18");
        org.apache.hadoop.fs.Path orphanMetrics = new org.apache.hadoop.fs.Path(root, ".metrics.jsonl.tmp-4242--19");
        org.apache.hadoop.fs.Path notOurs = new org.apache.hadoop.fs.Path(cp, ".notes.txt");
        for (org.apache.hadoop.fs.Path p : List.of(new org.apache.hadoop.fs.Path(orphan, "model/model.safetensors"),
                orphanLatest, orphanMetrics, notOurs)) {
            try (FSDataOutputStream w = fs.create(p, true)) {
                w.write("half written".getBytes(StandardCharsets.UTF_8));
            }
        }

        // another trainer holds the remote output (from another machine: the local staging lock cannot see it)
        try (HadoopOutputLock held = HadoopOutputLock.acquire(fs, fs.makeQualified(root), "train", n -> { })) {
            OutputLockedException e = assertThrows(OutputLockedException.class,
                    () -> train(o, false, new PrintStream(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("output directory " + out + " is in use by train (pid "
                    + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(fs.exists(orphan), "nothing is touched while another run holds the output");
        }

        // a killed run's lock (its process gone) is taken over, and its temporaries removed once the lock is held
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        org.apache.hadoop.fs.Path lockFile = new org.apache.hadoop.fs.Path(fs.getUri() + "/runs/.locked.lock");
        try (FSDataOutputStream w = fs.create(lockFile, false)) {
            w.write(("{\"host\":\"" + java.net.InetAddress.getLocalHost().getHostName() + "\",\"pid\":" + gone.pid()
                    + ",\"command\":\"train\",\"started\":\"x\",\"token\":\"t\",\"refreshed\":"
                    + System.currentTimeMillis() + "}").getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        train(o, false, new PrintStream(console, true, StandardCharsets.UTF_8));
        String printed = console.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("note: taking over the stale lock " + lockFile + " of train (pid " + gone.pid()), printed);
        for (org.apache.hadoop.fs.Path p : List.of(orphan, orphanLatest, orphanMetrics)) {
            assertFalse(fs.exists(p), p + " removed");
            assertTrue(printed.contains("removed " + fs.makeQualified(p) + ", left behind by a killed run"), printed);
        }
        assertTrue(fs.exists(notOurs), "only our own temporary names are removed");
        assertEquals("step-000001", text(fs, new org.apache.hadoop.fs.Path(cp, "latest")).trim());
        assertFalse(fs.exists(lockFile), "released at the end of the run");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(FileSystem fs, org.apache.hadoop.fs.Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    private static String text(FileSystem fs, org.apache.hadoop.fs.Path p) throws IOException {
        return new String(bytes(fs, p), StandardCharsets.UTF_8);
    }

    private static void deleteLocal(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
