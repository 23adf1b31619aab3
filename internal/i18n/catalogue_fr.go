package i18n

var french = map[string]string{}
