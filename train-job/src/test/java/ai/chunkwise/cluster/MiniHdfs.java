package ai.chunkwise.cluster;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/**
 * A real HDFS (NameNode + one DataNode) in its own JVM: Hadoop's MiniDFSClusterManager from the
 * hadoop-client-minicluster artifact, bound to 127.0.0.1 on free ports.
 */
final class MiniHdfs implements AutoCloseable {
    private final Process process;
    private final URI uri;
    private final FileSystem fs;

    private MiniHdfs(Process process, URI uri, FileSystem fs) {
        this.process = process;
        this.uri = uri;
        this.fs = fs;
    }

    static MiniHdfs start(ChildProcesses processes, ItSettings it) throws IOException, InterruptedException {
        java.nio.file.Path dir = Files.createDirectories(it.workDir().resolve("hdfs"));
        java.nio.file.Path details = dir.resolve("details.json");
        Files.deleteIfExists(details);
        int nnPort = ChildProcesses.freePort();
        List<String> cmd = List.of(it.java(), "-Xmx384m", "-cp", it.hdfsClassPath(),
                "org.apache.hadoop.test.MiniDFSClusterManager", "-datanodes", "1", "-format",
                "-nnport", String.valueOf(nnPort), "-httpport", String.valueOf(ChildProcesses.freePort()),
                "-writeDetails", details.toString(),
                "-D", "hadoop.tmp.dir=" + dir.resolve("data"),
                "-D", "dfs.datanode.address=127.0.0.1:" + ChildProcesses.freePort(),
                "-D", "dfs.datanode.http.address=127.0.0.1:" + ChildProcesses.freePort(),
                "-D", "dfs.datanode.ipc.address=127.0.0.1:" + ChildProcesses.freePort(),
                "-D", "dfs.permissions.enabled=false");
        Process p = processes.start(cmd, Map.of(), dir, dir.resolve("hdfs.log"));
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.exists(details)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("HDFS did not start (exit " + (p.isAlive() ? "none" : p.exitValue())
                        + "); its log: " + dir.resolve("hdfs.log"));
            }
            Thread.sleep(200);
        }
        URI uri = URI.create("hdfs://127.0.0.1:" + nnPort);
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", uri.toString());
        FileSystem fs = FileSystem.newInstance(uri, conf);
        return new MiniHdfs(p, uri, fs);
    }

    /** {@code hdfs://127.0.0.1:port/path}. */
    String url(String absolutePath) {
        return uri + absolutePath;
    }

    FileSystem fs() {
        return fs;
    }

    void put(java.nio.file.Path local, String absolutePath) throws IOException {
        fs.copyFromLocalFile(false, true, new Path(local.toUri()), new Path(url(absolutePath)));
    }

    /** Copies an HDFS directory to a new local directory (to read the dataset with the local DatasetReader). */
    java.nio.file.Path fetch(String absolutePath, java.nio.file.Path localParent) throws IOException {
        java.nio.file.Path target = localParent.resolve(new Path(absolutePath).getName());
        fs.copyToLocalFile(false, new Path(url(absolutePath)), new Path(target.toUri()), true);
        return target;
    }

    @Override
    public void close() throws IOException {
        try {
            fs.close();
        } finally {
            ChildProcesses.kill(process);
        }
    }
}
