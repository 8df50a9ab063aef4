package ai.chunkwise.train.stream;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Hadoop's MiniDFSCluster in this JVM (a real NameNode and one DataNode on loopback, web ports chosen free), as the
 * HDFS tests start it, and a local file or directory put on it.
 */
final class InProcessHdfs {
    private InProcessHdfs() {
    }

    /** A running cluster keeping its blocks under {@code base}; the caller shuts it down. */
    static MiniDFSCluster start(Path base) throws IOException {
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base.toFile()).numDataNodes(1).build();
        cluster.waitActive();
        return cluster;
    }

    /** Copies a local file or directory to {@code hdfsPath} and returns its full hdfs://host:port/... URI. */
    static String upload(MiniDFSCluster cluster, Path local, String hdfsPath) throws IOException {
        cluster.getFileSystem().copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toUri()),
                new org.apache.hadoop.fs.Path(hdfsPath));
        String uri = cluster.getURI() + hdfsPath;
        if (!uri.matches("hdfs://[^/]+:\\d+/.*")) {
            throw new IllegalStateException("not a full HDFS URI: " + uri);
        }
        return uri;
    }
}
