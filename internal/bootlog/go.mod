module bootlog

go 1.26.8
