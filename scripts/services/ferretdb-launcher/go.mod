module ilkkun.test/ferretdb-launcher

go 1.24

require github.com/FerretDB/FerretDB v1.24.1
