pub mod aliyun;
pub mod tencent;
