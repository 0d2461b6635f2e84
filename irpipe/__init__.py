"""irpipe: thermal-infrared action recognition and detection pipeline."""
__version__ = "0.1.0"
